package dev.vellama.runtime.chat.jinja;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A Python tuple: what {@code dict.items()}, {@code dictsort} and {@code groupby} give a template. It iterates,
 * unpacks and indexes as a list, and prints as Python prints a tuple: {@code ('a', 1)}, {@code (1,)}.
 */
final class PyTuple extends AbstractList<Object> implements RandomAccess {
    private final Object[] items;

    PyTuple(Object... items) {
        this.items = items.clone();
    }

    static PyTuple of(List<?> items) {
        return new PyTuple(items.toArray());
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
