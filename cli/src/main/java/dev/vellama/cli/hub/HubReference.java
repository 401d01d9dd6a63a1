package dev.vellama.cli.hub;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model named by its Hugging Face repository: {@code hf:ORG/REPO[:QUANT]} (ollama's and llama.cpp's
 * {@code -hf ORG/REPO[:QUANT]} form; the {@code hf:} prefix is optional). QUANT picks the GGUF file whose name
 * carries it (Q4_K_M, Q8_0, ...); without one, Q4_K_M, or the repository's only GGUF file.
 */
public record HubReference(String org, String repo, String quant) {
    private static final Pattern FORM = Pattern.compile("(?:hf:)?([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)(?::([A-Za-z0-9_.-]+))?");

    public static HubReference parse(String s) {
        Matcher m = FORM.matcher(s.strip());
        if (!m.matches() || m.group(2).endsWith(".")) {
            throw new HubException("'" + s + "' is not a model name: use hf:ORG/REPO or hf:ORG/REPO:QUANT, such as"
                    + " hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M");
        }
        return new HubReference(m.group(1), m.group(2), m.group(3));
    }

    /** ORG/REPO. */
    public String repository() {
        return org + "/" + repo;
    }

    @Override
    public String toString() {
        return "hf:" + repository() + (quant == null ? "" : ":" + quant);
    }
}
