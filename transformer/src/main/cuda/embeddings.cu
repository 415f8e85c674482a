// embeddings.cu: the embedding sum and its deterministic scatter-add. Mirrors the loops of
// org.varitune.transformer.layers.Embeddings (forward: sum = word[id] + position[p] + tokenType[tt]; backward:
// dTable[row] += dSum[i] for every token i that used the row). Ids are validated on the host before launch.
//
//   embeddings_forward(sum, word, position, tokenType, ids, positions, types, n, C)
//       sum(n, C)[i, j] = word[ids[i], j] + position[positions[i], j] + tokenType[types[i], j], added left to right
//       in float as the CPU does, so the result is bit-identical. grid (n), block min(C, 256) rounded to 32.
//   embeddings_backward(dTable, dSum, rows, offsets, members, numRows, C)
//       For each u < numRows: dTable[rows[u], j] += dSum[members[k], j] for k = offsets[u] .. offsets[u+1]−1 in that
//       order. rows: (numRows) distinct table rows; offsets: (numRows + 1); members: token indices, ascending within a
//       row (the host's EmbeddingScatterPlan, CSR). One block owns one table row, one thread one column: no atomics,
//       and the additions happen in the CPU's order into the same float, so the result is bit-identical.
//       grid (numRows), block min(C, 256) rounded to 32.

extern "C" __global__ void embeddings_forward(float* sum, const float* word, const float* position,
                                              const float* tokenType, const int* ids, const int* positions,
                                              const int* types, int n, int C) {
    const int i = blockIdx.x;
    const float* w = word + (size_t)ids[i] * C;
    const float* p = position + (size_t)positions[i] * C;
    const float* t = tokenType + (size_t)types[i] * C;
    float* o = sum + (size_t)i * C;
    for (int j = threadIdx.x; j < C; j += blockDim.x) o[j] = w[j] + p[j] + t[j];
}

extern "C" __global__ void embeddings_backward(float* dTable, const float* dSum, const int* rows, const int* offsets,
                                               const int* members, int numRows, int C) {
    const int u = blockIdx.x;
    float* dst = dTable + (size_t)rows[u] * C;
    const int k0 = offsets[u], k1 = offsets[u + 1];
    for (int j = threadIdx.x; j < C; j += blockDim.x) {
        float v = dst[j];
        for (int k = k0; k < k1; k++) v += dSum[(size_t)members[k] * C + j];
        dst[j] = v;
    }
}
