package dev.vellama.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonGenerator;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vellama info}: what a GGUF file holds, like llama.cpp's gguf-dump. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a GGUF file's header: version, metadata and tensors.")
final class InfoCommand implements Callable<Integer> {
    private static final int ARRAY_PREVIEW = 8;
    private static final int STRING_PREVIEW = 120;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", arity = "0..1", description = "GGUF file (the first part of a split model).")
    Path model;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", description = "The same, as other commands take it.")
    Path modelOption;

    @Option(names = "--json", description = "Print one JSON document instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if ((model == null) == (modelOption == null)) {
            throw new IllegalArgumentException("give the model file once: vellama info MODEL, or -m MODEL");
        }
        try (GgufFile file = GgufFile.open(model != null ? model : modelOption)) {
            if (json) {
                printJson(file, out);
            } else {
                printText(file, out);
            }
        }
        out.flush();
        return 0;
    }

    /** Per-type totals of the tensor table. */
    private record Total(int tensors, long elements, long bytes) {
        Total plus(GgufTensor t) {
            return new Total(tensors + 1, elements + t.elementCount(), bytes + t.byteSize());
        }
    }

    private static Map<GgmlType, Total> totals(GgufFile file) {
        Map<GgmlType, Total> totals = new TreeMap<>();
        for (GgufTensor t : file.tensors()) {
            totals.merge(t.type(), new Total(0, 0, 0).plus(t), (a, b) -> new Total(a.tensors + b.tensors,
                    a.elements + b.elements, a.bytes + b.bytes));
        }
        return totals;
    }

    private void printText(GgufFile file, PrintWriter out) {
        out.printf("file:          %s%n", String.join(", ", file.parts().stream().map(Path::toString).toList()));
        out.printf("size:          %,d bytes (%s)%n", file.fileSize(), human(file.fileSize()));
        out.printf("GGUF version:  %d%n", file.version());
        out.printf("architecture:  %s%n", file.architecture() == null ? "(not stated)" : file.architecture());
        out.printf("name:          %s%n", file.metadata().getString("general.name", "(not stated)"));
        long params = file.tensors().stream().mapToLong(GgufTensor::elementCount).sum();
        out.printf("tensors:       %d (%,d parameters)%n", file.tensors().size(), params);
        out.printf("metadata keys: %d, alignment %d, tensor data at byte %d%n%n", file.metadata().size(),
                file.alignment(), file.dataOffset());

        out.println("metadata:");
        int keyWidth = file.metadata().keys().stream().mapToInt(String::length).max().orElse(10);
        for (Map.Entry<String, GgufValue> e : file.metadata().asMap().entrySet()) {
            out.printf("  %-" + keyWidth + "s  %-14s %s%n", e.getKey(), e.getValue().typeName(), preview(e.getValue()));
        }

        out.println();
        out.println("tensors:");
        int nameWidth = file.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(10);
        out.printf("  %-" + nameWidth + "s  %-7s %-22s %14s%n", "name", "type", "shape", "bytes");
        for (GgufTensor t : file.tensors()) {
            out.printf("  %-" + nameWidth + "s  %-7s %-22s %,14d%n", t.name(), t.type(), shape(t.shape()), t.byteSize());
        }

        out.println();
        out.println("totals by type:");
        for (Map.Entry<GgmlType, Total> e : totals(file).entrySet()) {
            Total t = e.getValue();
            out.printf("  %-7s %4d tensors %,16d elements %,16d bytes (%s)%n", e.getKey(), t.tensors, t.elements, t.bytes, human(t.bytes));
        }
    }

    private static String preview(GgufValue v) {
        if (v.type() == GgufValueType.STRING) {
            String s = (String) v.value();
            if (s.length() > STRING_PREVIEW) {
                return GgufValue.string(s.substring(0, STRING_PREVIEW)).format(1) + "... (" + s.length() + " chars)";
            }
        }
        return v.format(ARRAY_PREVIEW);
    }

    private static String shape(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? ", " : "").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.2f %s", v, units[u]);
    }

    private void printJson(GgufFile file, PrintWriter out) throws IOException {
        try (JsonGenerator g = JsonOutput.open(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeArrayFieldStart("files");
            for (Path p : file.parts()) {
                g.writeString(p.toString());
            }
            g.writeEndArray();
            g.writeNumberField("size", file.fileSize());
            g.writeNumberField("version", file.version());
            g.writeStringField("architecture", file.architecture());
            g.writeNumberField("alignment", file.alignment());
            g.writeNumberField("data_offset", file.dataOffset());
            g.writeNumberField("tensor_count", file.tensors().size());
            g.writeObjectFieldStart("metadata");
            for (Map.Entry<String, GgufValue> e : file.metadata().asMap().entrySet()) {
                GgufValue v = e.getValue();
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("type", v.typeName());
                if (v.isArray()) {
                    g.writeNumberField("length", v.length());
                    g.writeArrayFieldStart("value");
                    for (int i = 0; i < Math.min(v.length(), ARRAY_PREVIEW); i++) {
                        writeScalar(g, v.elementType(), v.element(i));
                    }
                    g.writeEndArray();
                } else {
                    g.writeFieldName("value");
                    writeScalar(g, v.type(), v.value());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeArrayFieldStart("tensors");
            for (GgufTensor t : file.tensors()) {
                g.writeStartObject();
                g.writeStringField("name", t.name());
                g.writeStringField("type", t.type().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeNumberField("offset", t.fileOffset());
                g.writeNumberField("bytes", t.byteSize());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeObjectFieldStart("totals");
            for (Map.Entry<GgmlType, Total> e : totals(file).entrySet()) {
                g.writeObjectFieldStart(e.getKey().name());
                g.writeNumberField("tensors", e.getValue().tensors);
                g.writeNumberField("elements", e.getValue().elements);
                g.writeNumberField("bytes", e.getValue().bytes);
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        out.println();
    }

    private static void writeScalar(JsonGenerator g, GgufValueType type, Object v) throws IOException {
        switch (type) {
            case STRING -> g.writeString((String) v);
            case BOOL -> g.writeBoolean((Boolean) v);
            case FLOAT32 -> writeFloat(g, (Float) v);
            case FLOAT64 -> writeFloat(g, (Double) v);
            case UINT64 -> g.writeNumber(new java.math.BigInteger(Long.toUnsignedString((Long) v)));
            default -> g.writeNumber((Long) v);
        }
    }

    /** JSON has no NaN or infinity: those are written as strings. */
    private static void writeFloat(JsonGenerator g, double d) throws IOException {
        if (Double.isFinite(d)) {
            g.writeNumber(d);
        } else {
            g.writeString(Double.toString(d));
        }
    }
}
