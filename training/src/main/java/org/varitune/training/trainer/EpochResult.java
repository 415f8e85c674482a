package org.varitune.training.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one epoch gave.
 *
 * @param epoch             1-based
 * @param trainLoss         mean training loss over the epoch's examples (each micro-batch's mean loss weighted by
 *                          its rows)
 * @param dev               metrics per dev split, in the order the splits were given (the first selects checkpoints)
 * @param seconds           wall time of the epoch's training steps (without evaluation; a resumed epoch adds the
 *                          time before and after the interruption)
 * @param evalSeconds       wall time of the evaluation after the epoch
 * @param examplesPerSecond training examples / seconds
 * @param globalStep        optimizer updates done at the end of the epoch
 */
public record EpochResult(int epoch, double trainLoss, Map<String, Map<String, Double>> dev, double seconds,
                          double evalSeconds, double examplesPerSecond, long globalStep) {

    public EpochResult {
        Map<String, Map<String, Double>> copy = new LinkedHashMap<>();
        dev.forEach((k, v) -> copy.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
        dev = Collections.unmodifiableMap(copy);
    }

    /** The metrics of the first (selecting) dev split. */
    public Map<String, Double> mainDev() { return dev.values().iterator().next(); }

    /**
     * All dev metrics in one flat map: the first split's names as they are, the other splits' as
     * {@code <metric>_<split>} (MNLI: {@code accuracy}, {@code accuracy_dev_mismatched}).
     */
    public Map<String, Double> flatDev() {
        Map<String, Double> m = new LinkedHashMap<>();
        boolean first = true;
        for (var e : dev.entrySet()) {
            for (var v : e.getValue().entrySet()) m.put(first ? v.getKey() : v.getKey() + "_" + e.getKey(), v.getValue());
            first = false;
        }
        return m;
    }

    /** {@code {"epoch", "train_loss", "dev": flat, "dev_splits": {split: {...}}, "seconds", ...}}. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("epoch", epoch);
        o.put("train_loss", trainLoss);
        ObjectNode flat = o.putObject("dev");
        flatDev().forEach(flat::put);
        ObjectNode splits = o.putObject("dev_splits");
        dev.forEach((split, ms) -> {
            ObjectNode s = splits.putObject(split);
            ms.forEach(s::put);
        });
        o.put("seconds", seconds);
        o.put("eval_seconds", evalSeconds);
        o.put("examples_per_second", examplesPerSecond);
        o.put("global_step", globalStep);
        return o;
    }

    /** Reads {@link #toJson()}. */
    public static EpochResult fromJson(JsonNode o) {
        Map<String, Map<String, Double>> dev = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.get("dev_splits").fields(); it.hasNext(); ) {
            var e = it.next();
            Map<String, Double> ms = new LinkedHashMap<>();
            e.getValue().fields().forEachRemaining(m -> ms.put(m.getKey(), m.getValue().asDouble()));
            dev.put(e.getKey(), ms);
        }
        return new EpochResult(o.get("epoch").asInt(), o.get("train_loss").asDouble(), dev, o.get("seconds").asDouble(),
                o.get("eval_seconds").asDouble(), o.get("examples_per_second").asDouble(), o.get("global_step").asLong());
    }
}
