package dev.vellama.runtime.chat;

/**
 * Whether the model must call a tool: {@link #AUTO} lets it choose (its own words or calls), {@link #NONE} keeps it
 * from calling, {@link #REQUIRED} makes it call at least one, and {@link #function} one named function.
 *
 * @param mode         OpenAI's {@code tool_choice} mode: {@code auto}, {@code none}, {@code required} or
 *                     {@code function}
 * @param functionName the function that must be called when {@code mode} is {@code function}; null otherwise
 */
public record ToolChoice(String mode, String functionName) {
    /** The model answers in words or calls tools, as it chooses (OpenAI's default when tools are given). */
    public static final ToolChoice AUTO = new ToolChoice("auto", null);
    /** The model may not call tools, though the template still shows them. */
    public static final ToolChoice NONE = new ToolChoice("none", null);
    /** The reply must be one or more tool calls. */
    public static final ToolChoice REQUIRED = new ToolChoice("required", null);

    /**
     * The reply must call one named function.
     *
     * @param name the {@link Tool#name} of the function to call; it must be among the tools offered
     * @return a choice in {@code function} mode naming {@code name}
     */
    public static ToolChoice function(String name) {
        return new ToolChoice("function", name);
    }

    /** {@return whether the reply must be tool calls: {@code required} or {@code function} mode} */
    public boolean forcesCall() {
        return mode.equals("required") || mode.equals("function");
    }
}
