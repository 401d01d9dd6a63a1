package dev.vellama.runtime.chat;

/**
 * Whether the model must call a tool: {@link #AUTO} lets it choose (its own words or calls), {@link #NONE} keeps it
 * from calling, {@link #REQUIRED} makes it call at least one, and {@link #function} one named function.
 */
public record ToolChoice(String mode, String functionName) {
    public static final ToolChoice AUTO = new ToolChoice("auto", null);
    public static final ToolChoice NONE = new ToolChoice("none", null);
    public static final ToolChoice REQUIRED = new ToolChoice("required", null);

    public static ToolChoice function(String name) {
        return new ToolChoice("function", name);
    }

    /** Whether the reply must be tool calls. */
    public boolean forcesCall() {
        return mode.equals("required") || mode.equals("function");
    }
}
