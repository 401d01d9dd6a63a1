package dev.vellama.runtime.chat.jinja;

import java.util.List;

/** The {@code loop} variable inside a for loop. */
final class LoopInfo {
    private final List<Object> items;
    private final int depth;
    private int index0;

    LoopInfo(List<Object> items, int depth) {
        this.items = items;
        this.depth = depth;
    }

    void advanceTo(int index) {
        this.index0 = index;
    }

    Object attribute(String name) {
        int length = items.size();
        return switch (name) {
            case "index0" -> (long) index0;
            case "index" -> (long) index0 + 1;
            case "revindex0" -> (long) (length - index0 - 1);
            case "revindex" -> (long) (length - index0);
            case "first" -> index0 == 0;
            case "last" -> index0 == length - 1;
            case "length" -> (long) length;
            case "depth" -> (long) depth;
            case "depth0" -> (long) depth - 1;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 < length - 1 ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (JinjaCallable) (args, kwargs) -> {
                if (args.isEmpty()) {
                    throw new JinjaException("loop.cycle() needs at least one value");
                }
                return args.get(index0 % args.size());
            };
            default -> Undefined.attribute(this, name);
        };
    }
}
