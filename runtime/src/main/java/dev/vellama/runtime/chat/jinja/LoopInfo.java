package dev.vellama.runtime.chat.jinja;

import java.util.List;

/**
 * The {@code loop} variable inside a for loop; in a {@code recursive} loop it is also callable, {@code loop(items)}
 * rendering the loop's body again for those items one level deeper.
 */
final class LoopInfo implements JinjaCallable {
    private final List<Object> items;
    private final int depth;
    private final JinjaCallable recurse; // null unless the loop is recursive
    private int index0;

    LoopInfo(List<Object> items, int depth, JinjaCallable recurse) {
        this.items = items;
        this.depth = depth;
        this.recurse = recurse;
    }

    @Override
    public Object call(List<Object> args, java.util.Map<String, Object> kwargs) {
        if (recurse == null) {
            throw new JinjaException("loop is callable only inside a recursive for loop");
        }
        return recurse.call(args, kwargs);
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
