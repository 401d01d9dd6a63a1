package dev.vellama.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.zip.CRC32C;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.runtime.model.KvCache;

/**
 * A session saved to a file: its token history and the cells its KV cache holds, after a header that names the
 * model (its name and a fingerprint of its tensor table and file size), so that a file saved with another model is
 * refused, not silently misread. A CRC-32C of everything before it ends the file, so a cut or damaged file is
 * refused too. Little-endian throughout:
 *
 * <pre>
 * "VLSESSN1"  int version  int nameBytes  name (UTF-8)  long fingerprint
 * int layers  int kvDim  int keyType  int valueType (ggml type ids)
 * int historyLength  int keptPrefix  int forgotten  int slidingFrom  int[historyLength] history
 * per layer: keys, then values, of the cached positions in the cache's layouts (see {@link KvCache#transfer}):
 *   all of them, or for a sliding-window layer those from slidingFrom on
 * int crc32c
 * </pre>
 *
 * Version 1 had no slidingFrom (every layer held every cached position); it is still read.
 */
final class SessionFile {
    private static final byte[] MAGIC = "VLSESSN1".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 2;
    private static final int BUFFER = 1 << 20;

    /** What a session remembers besides its cells: see {@link Session}'s fields of the same names. */
    record State(int[] history, int keptPrefix, int forgotten) {
        int cachedLength() {
            return history.length - forgotten;
        }

        /** The tokens of the cached cells in order: the history less what context shifts forgot after the kept prefix. */
        int[] cells() {
            int[] cells = new int[cachedLength()];
            int kept = forgotten > 0 ? keptPrefix : cells.length;
            System.arraycopy(history, 0, cells, 0, kept);
            System.arraycopy(history, kept + forgotten, cells, kept, cells.length - kept);
            return cells;
        }
    }

    private SessionFile() {
    }

    /** A fingerprint of the model: its tensors' names, types, shapes and offsets, and the file's size. */
    static long fingerprint(GgufFile file) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(8);
            sha.update(b.putLong(0, file.fileSize()).array());
            for (GgufTensor t : file.tensors()) {
                sha.update(t.name().getBytes(StandardCharsets.UTF_8));
                sha.update(t.type().name().getBytes(StandardCharsets.US_ASCII));
                for (long d : t.shape()) {
                    sha.update(b.putLong(0, d).array());
                }
                sha.update(b.putLong(0, t.fileOffset()).array());
            }
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    static void write(Path path, Model model, KvCache cache, State state) {
        Path part = path.resolveSibling(path.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            Writer w = new Writer(ch);
            w.bytes(MAGIC);
            w.putInt(VERSION);
            byte[] name = model.name().getBytes(StandardCharsets.UTF_8);
            w.putInt(name.length);
            w.bytes(name);
            w.putLong(fingerprint(model.file()));
            w.putInt(cache.layers());
            w.putInt(cache.rowWidth());
            w.putInt(cache.keyType().id());
            w.putInt(cache.valueType().id());
            w.putInt(state.history().length);
            w.putInt(state.keptPrefix());
            w.putInt(state.forgotten());
            if (!cache.canContinueAt(state.cachedLength())) {
                // a cancelled chunk left some recurrent layers past the cached tokens
                throw new SessionFileException("cannot save the session: its recurrent state does not stand at its "
                        + state.cachedLength() + " cached tokens (evaluate a prompt first)");
            }
            int slidingFrom = Math.min(cache.slidingFrom(), state.cachedLength());
            w.putInt(slidingFrom);
            for (int id : state.history()) {
                w.putInt(id);
            }
            for (int l = 0; l < cache.layers(); l++) {
                cache.transfer(l, cache.slidingLayer(l) ? slidingFrom : 0, state.cachedLength(), 0, w);
            }
            w.finish();
        } catch (IOException e) {
            throw new SessionFileException("cannot write the session to " + path + ": " + e.getMessage(), e);
        }
        try {
            Files.move(part, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new SessionFileException("cannot write the session to " + path + ": " + e.getMessage(), e);
        }
    }

    /** Reads a session saved with this model into {@code cache}, which must hold at least its cached positions. */
    static State read(Path path, Model model, KvCache cache) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Reader r = new Reader(ch, path);
            byte[] magic = r.bytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new SessionFileException(path + " is not a saved Vellama session");
            }
            int version = r.getInt();
            if (version != VERSION && version != 1) {
                throw new SessionFileException(path + " is a saved session of format version " + version + "; this Vellama reads " + VERSION);
            }
            int nameLength = r.getInt();
            if (nameLength < 0 || nameLength > 4096) {
                throw new SessionFileException(path + " is damaged (a model name of " + nameLength + " bytes)");
            }
            String name = new String(r.bytes(nameLength), StandardCharsets.UTF_8);
            long fingerprint = r.getLong();
            if (fingerprint != fingerprint(model.file())) {
                throw new SessionFileException(path + " was saved with the model '" + name + "', not with this file ("
                        + model.name() + "); a session's cache is only valid for the model that made it");
            }
            int layers = r.getInt();
            int kvDim = r.getInt();
            int keyType = r.getInt();
            int valueType = r.getInt();
            if (layers != cache.layers() || kvDim != cache.rowWidth()) {
                throw new SessionFileException(path + " is damaged (a cache of " + layers + " layers of " + kvDim + " features)");
            }
            if (keyType != cache.keyType().id() || valueType != cache.valueType().id()) {
                throw new SessionFileException(path + " holds a cache of types " + typeName(keyType) + "/" + typeName(valueType)
                        + ", not the " + cache.keyType() + "/" + cache.valueType() + " this cache keeps (load it with the same --cache-type)");
            }
            int historyLength = r.getInt();
            int keptPrefix = r.getInt();
            int forgotten = r.getInt();
            int slidingFrom = version >= 2 ? r.getInt() : 0;
            if (historyLength < 1 || keptPrefix < 0 || forgotten < 0 || forgotten > historyLength
                    || forgotten > 0 && keptPrefix + forgotten > historyLength || historyLength > (Integer.MAX_VALUE >> 3)) {
                throw new SessionFileException(path + " is damaged (a history of " + historyLength + " tokens, " + forgotten + " forgotten)");
            }
            int cached = historyLength - forgotten;
            if (cached > cache.capacity()) {
                throw new SessionFileException(path + " holds " + cached + " cached tokens but this session's context holds "
                        + cache.capacity() + "; use a larger context (--ctx)");
            }
            if (slidingFrom < 0 || slidingFrom > cached) {
                throw new SessionFileException(path + " is damaged (sliding-window cells from position " + slidingFrom + ")");
            }
            // a ring smaller than the saved sliding positions keeps their end
            int keptFrom = Math.max(slidingFrom, cached - cache.slidingCells());
            long expected = 4L * historyLength;
            for (int l = 0; l < layers; l++) {
                expected += cache.transferBytes(l, cache.slidingLayer(l) ? cached - slidingFrom : cached);
            }
            if (ch.size() - ch.position() + r.buffered() < expected + 4) {
                throw new SessionFileException(path + " is cut short: it ends before its " + cached + " cached positions");
            }
            int[] history = new int[historyLength];
            int vocab = model.config().vocabSize();
            for (int i = 0; i < historyLength; i++) {
                history[i] = r.getInt();
                if (history[i] < 0 || history[i] >= vocab) {
                    throw new SessionFileException(path + " is damaged (token id " + history[i] + " is outside the vocabulary)");
                }
            }
            for (int l = 0; l < layers; l++) {
                if (cache.slidingLayer(l)) {
                    cache.transfer(l, keptFrom, cached, keptFrom - slidingFrom, r);
                } else {
                    cache.transfer(l, 0, cached, 0, r);
                }
            }
            r.checkCrc();
            cache.restoredFrom(keptFrom);
            return new State(history, keptPrefix, forgotten);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new SessionFileException("no saved session at " + path);
        } catch (IOException e) {
            throw new SessionFileException("cannot read the session " + path + ": " + e.getMessage(), e);
        }
    }

    private static String typeName(int id) {
        try {
            return dev.vellama.gguf.GgmlType.byId(id).toString();
        } catch (RuntimeException e) {
            return "#" + id;
        }
    }

    /** Buffered little-endian writes with a running CRC-32C. */
    private static final class Writer implements KvCache.CellStream {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();

        Writer(FileChannel ch) {
            this.ch = ch;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) {
                flush();
            }
        }

        private void flush() throws IOException {
            buf.flip();
            crc.update(buf.duplicate());
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void bytes(byte[] b) throws IOException {
            room(b.length);
            buf.put(b);
        }

        void putInt(int v) throws IOException {
            room(4);
            buf.putInt(v);
        }

        void putLong(long v) throws IOException {
            room(8);
            buf.putLong(v);
        }

        @Override
        public void halves(short[] a, int from, int n) throws IOException {
            while (n > 0) {
                room(2);
                int k = Math.min(n, buf.remaining() / 2);
                buf.asShortBuffer().put(a, from, k);
                buf.position(buf.position() + 2 * k);
                from += k;
                n -= k;
            }
        }

        @Override
        public void floats(float[] a, int from, int n) throws IOException {
            while (n > 0) {
                room(4);
                int k = Math.min(n, buf.remaining() / 4);
                buf.asFloatBuffer().put(a, from, k);
                buf.position(buf.position() + 4 * k);
                from += k;
                n -= k;
            }
        }

        @Override
        public void bytes(byte[] a, int from, int n) throws IOException {
            while (n > 0) {
                room(1);
                int k = Math.min(n, buf.remaining());
                buf.put(a, from, k);
                from += k;
                n -= k;
            }
        }

        void finish() throws IOException {
            flush();
            ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) crc.getValue());
            while (tail.hasRemaining()) {
                ch.write(tail);
            }
        }
    }

    /** Buffered little-endian reads with a running CRC-32C of what was consumed; running out of file is an error. */
    private static final class Reader implements KvCache.CellStream {
        private final FileChannel ch;
        private final Path path;
        private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32C crc = new CRC32C();

        Reader(FileChannel ch, Path path) {
            this.ch = ch;
            this.path = path;
            buf.limit(0);
        }

        int buffered() {
            return buf.remaining();
        }

        private void need(int n) throws IOException {
            if (buf.remaining() >= n) {
                return;
            }
            buf.compact();
            while (buf.position() < n) {
                if (ch.read(buf) < 0) {
                    throw new SessionFileException(path + " is cut short");
                }
            }
            buf.flip();
        }

        /** The next {@code n} buffered bytes (after {@link #need}) as a view, counted in the checksum and skipped. */
        private ByteBuffer consume(int n) {
            ByteBuffer view = buf.slice(buf.position(), n).order(ByteOrder.LITTLE_ENDIAN);
            crc.update(view.duplicate());
            buf.position(buf.position() + n);
            return view;
        }

        byte[] bytes(int n) throws IOException {
            need(n);
            byte[] b = new byte[n];
            consume(n).get(b);
            return b;
        }

        int getInt() throws IOException {
            need(4);
            return consume(4).getInt();
        }

        long getLong() throws IOException {
            need(8);
            return consume(8).getLong();
        }

        @Override
        public void halves(short[] a, int from, int n) throws IOException {
            while (n > 0) {
                need(2);
                int k = Math.min(n, buf.remaining() / 2);
                consume(2 * k).asShortBuffer().get(a, from, k);
                from += k;
                n -= k;
            }
        }

        @Override
        public void floats(float[] a, int from, int n) throws IOException {
            while (n > 0) {
                need(4);
                int k = Math.min(n, buf.remaining() / 4);
                consume(4 * k).asFloatBuffer().get(a, from, k);
                from += k;
                n -= k;
            }
        }

        @Override
        public void bytes(byte[] a, int from, int n) throws IOException {
            while (n > 0) {
                need(1);
                int k = Math.min(n, buf.remaining());
                consume(k).get(a, from, k);
                from += k;
                n -= k;
            }
        }

        @Override
        public void skip(long n) throws IOException {
            while (n > 0) {
                need(1);
                int k = (int) Math.min(n, buf.remaining());
                consume(k);
                n -= k;
            }
        }

        /** The last four bytes hold the CRC of everything before them, and nothing follows. */
        void checkCrc() throws IOException {
            int expected = (int) crc.getValue();
            need(4);
            int stored = buf.getInt();
            if (buf.hasRemaining() || ch.position() != ch.size()) {
                throw new SessionFileException(path + " is damaged (data after its end)");
            }
            if (stored != expected) {
                throw new SessionFileException(path + " is damaged (its checksum does not match)");
            }
        }
    }
}
