package org.varitune.metrics;

import java.util.Arrays;

/**
 * L2-regularised multinomial logistic regression, minimised in double by preconditioned L-BFGS to a gradient
 * tolerance. With features {@code x_r} (k), classes {@code y_r ∈ [0, C)}, weights {@code W} (C, k) and biases
 * {@code b} (C):
 * <pre>
 *   f(W, b) = (1/n) Σ_r [logsumexp_c(z_rc) − z_{r,y_r}] + (λ/2) |W|²,   z_r = W x_r + b   (b unpenalised)
 *   ∂f/∂W_c = (1/n) Σ_r (p_rc − [y_r = c]) x_r + λ W_c,   ∂f/∂b_c = (1/n) Σ_r (p_rc − [y_r = c]),   p_r = softmax(z_r)
 * </pre>
 * (scikit-learn's {@code ½|W|² + C_sk Σ_r CE_r} divided by {@code C_sk n}, so {@code λ = 1/(C_sk n)}). Parameters are
 * packed {@code θ = [W row-major | b]}. L-BFGS keeps 10 pairs; the initial inverse Hessian is
 * {@code γ · diag(precond)} with {@code γ = sᵀy / (yᵀ diag(precond) y)} of the newest pair, and steps are backtracked
 * to the Armijo condition ({@code c₁ = 1e-4}). It stops when {@code max |∇f| ≤ tolerance} (converged), when a line
 * search cannot decrease f any more (converged to rounding when then {@code max |∇f| ≤ 100 · tolerance}), or at the
 * iteration cap. The data passes are written as axpy loops over contiguous rows (features stored both (n, k) and
 * (k, n)) so the JIT vectorises them. Deterministic.
 */
final class Logistic {
    private static final int MEMORY = 10;

    /** The outcome of one minimisation: θ, f(θ), max |∇f(θ)|, iterations and whether the tolerance was met. */
    record Fit(double[] theta, double loss, double gradientMax, int iterations, boolean converged) {}

    final double[] x;    // (n, k) row-major
    final double[] xt;   // (k, n)
    final int[] y;       // (n)
    final int n, k, C;
    private final double[] z, coef;   // (C, n) scratch: logits, then (p − onehot)/n

    /** @param x (n, k) features, not modified (copied transposed); y (n) labels in [0, C), not modified */
    Logistic(double[] x, int[] y, int n, int k, int C) {
        if (x.length != n * k || y.length != n) throw new IllegalArgumentException("x has length " + x.length + ", y "
                + y.length + "; expected n*k = " + n + "*" + k + " and n");
        this.x = x;
        this.y = y;
        this.n = n;
        this.k = k;
        this.C = C;
        xt = new double[k * n];
        for (int r = 0; r < n; r++) for (int i = 0; i < k; i++) xt[i * n + r] = x[r * k + i];
        z = new double[C * n];
        coef = new double[C * n];
    }

    int size() { return C * k + C; }

    /** f(θ) and, into grad (modified), ∇f(θ). θ not modified. */
    double lossAndGradient(double[] theta, double lambda, double[] grad) {
        logits(theta);
        double loss = 0;
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) max = Math.max(max, z[c * n + r]);
            double sum = 0;
            for (int c = 0; c < C; c++) sum += Math.exp(z[c * n + r] - max);
            double lse = max + Math.log(sum);
            loss += lse - z[y[r] * n + r];
            for (int c = 0; c < C; c++) coef[c * n + r] = (Math.exp(z[c * n + r] - lse) - (c == y[r] ? 1 : 0)) / n;
        }
        Arrays.fill(grad, 0);
        for (int r = 0; r < n; r++) {                 // row r of x stays in L1 across the classes
            int xo = r * k;
            for (int c = 0; c < C; c++) {
                double a = coef[c * n + r];
                int off = c * k;
                for (int i = 0; i < k; i++) grad[off + i] += a * x[xo + i];
                grad[C * k + c] += a;
            }
        }
        double pen = 0;
        for (int c = 0; c < C; c++) {
            int off = c * k;
            for (int i = 0; i < k; i++) {
                grad[off + i] += lambda * theta[off + i];
                pen += theta[off + i] * theta[off + i];
            }
        }
        return loss / n + 0.5 * lambda * pen;
    }

    /** z (C, n) = W xᵀ + b. */
    private void logits(double[] theta) {
        for (int c = 0; c < C; c++) Arrays.fill(z, c * n, (c + 1) * n, theta[C * k + c]);
        for (int i = 0; i < k; i++) {                 // column i of x stays in L1 across the classes
            int xo = i * n;
            for (int c = 0; c < C; c++) {
                double w = theta[c * k + i];
                if (w == 0) continue;
                int zo = c * n;
                for (int r = 0; r < n; r++) z[zo + r] += w * xt[xo + r];
            }
        }
    }

    /**
     * Minimises f from theta0 (not modified).
     *
     * @param precond (size()) positive diagonal of the initial inverse-Hessian guess
     */
    Fit minimise(double lambda, double[] theta0, double[] precond, double tolerance, int maxIterations) {
        int P = size();
        double[] theta = theta0.clone(), g = new double[P], next = new double[P], gNext = new double[P];
        double[] q = new double[P], dir = new double[P], alpha = new double[MEMORY], rho = new double[MEMORY];
        double[][] s = new double[MEMORY][P], yv = new double[MEMORY][P];
        int stored = 0, newest = -1;
        double f = lossAndGradient(theta, lambda, g);
        int it = 0;
        while (true) {
            double gMax = maxAbs(g);
            if (gMax <= tolerance) return new Fit(theta, f, gMax, it, true);
            if (it == maxIterations) return new Fit(theta, f, gMax, it, false);
            System.arraycopy(g, 0, q, 0, P);                       // two-loop recursion: dir = −H g
            for (int j = 0; j < stored; j++) {
                int m = Math.floorMod(newest - j, MEMORY);
                alpha[m] = rho[m] * dot(s[m], q);
                axpy(-alpha[m], yv[m], q);
            }
            double gamma = 1;
            if (stored > 0) {
                double yPy = 0;
                for (int i = 0; i < P; i++) yPy += yv[newest][i] * precond[i] * yv[newest][i];
                gamma = 1 / (rho[newest] * yPy);
            }
            for (int i = 0; i < P; i++) dir[i] = gamma * precond[i] * q[i];
            for (int j = stored - 1; j >= 0; j--) {
                int m = Math.floorMod(newest - j, MEMORY);
                axpy(alpha[m] - rho[m] * dot(yv[m], dir), s[m], dir);
            }
            for (int i = 0; i < P; i++) dir[i] = -dir[i];
            double slope = dot(g, dir);
            if (!(slope < 0)) {                                     // not a descent direction: restart from the guess
                stored = 0;
                for (int i = 0; i < P; i++) dir[i] = -precond[i] * g[i];
                slope = dot(g, dir);
            }
            double t = 1, fNext;
            while (true) {
                for (int i = 0; i < P; i++) next[i] = theta[i] + t * dir[i];
                fNext = lossAndGradient(next, lambda, gNext);
                if (fNext <= f + 1e-4 * t * slope) break;
                t *= 0.5;
                if (t < 1e-12) return new Fit(theta, f, gMax, it, gMax <= 100 * tolerance);   // no decrease left
            }
            double sy = 0;
            for (int i = 0; i < P; i++) sy += (next[i] - theta[i]) * (gNext[i] - g[i]);
            if (sy > 0) {                                           // otherwise no curvature information: keep the pairs
                newest = (newest + 1) % MEMORY;
                for (int i = 0; i < P; i++) {
                    s[newest][i] = next[i] - theta[i];
                    yv[newest][i] = gNext[i] - g[i];
                }
                rho[newest] = 1 / sy;
                stored = Math.min(stored + 1, MEMORY);
            }
            double[] tmp = theta; theta = next; next = tmp;
            tmp = g; g = gNext; gNext = tmp;
            f = fNext;
            it++;
        }
    }

    /** Predicted class (argmax of W x + b, lowest class on ties) of each row of x (m, k); x not modified. */
    static int[] predict(double[] theta, double[] x, int m, int k, int C) {
        int[] out = new int[m];
        double[] zr = new double[C];
        for (int r = 0; r < m; r++) {
            scores(theta, x, r, k, C, zr);
            int best = 0;
            for (int c = 1; c < C; c++) if (zr[c] > zr[best]) best = c;
            out[r] = best;
        }
        return out;
    }

    /** Σ_r CE of rows x (m, k) with labels y. */
    static double crossEntropySum(double[] theta, double[] x, int[] y, int m, int k, int C) {
        double[] zr = new double[C];
        double sum = 0;
        for (int r = 0; r < m; r++) {
            scores(theta, x, r, k, C, zr);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : zr) max = Math.max(max, v);
            double e = 0;
            for (double v : zr) e += Math.exp(v - max);
            sum += max + Math.log(e) - zr[y[r]];
        }
        return sum;
    }

    private static void scores(double[] theta, double[] x, int r, int k, int C, double[] zr) {
        for (int c = 0; c < C; c++) {
            double v = theta[C * k + c];
            for (int i = 0; i < k; i++) v += theta[c * k + i] * x[r * k + i];
            zr[c] = v;
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) y[i] += a * x[i];
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
