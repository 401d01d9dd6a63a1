package dev.vellama.runtime;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import dev.vellama.VellamaException;

/**
 * A base model's log-probabilities in llama-perplexity's {@code --kl-divergence-base} format, so files written by
 * either program are read by both: {@code "_logits_"}, the chunk size (u32), the vocabulary size and the chunk
 * count (i32), every chunk's tokens (i32), then for each scored position (the second half of each chunk, less the
 * last) one row of {@code 2*((vocab+1)/2) + 4} u16: two floats (scale, smallest log-probability) and each token's
 * log-probability as {@code round((logit - min) / scale)}, where {@code min} is at most 16 below the largest logit
 * (lower ones are 0). Little-endian.
 */
public final class LogProbsFile {
    private static final byte[] MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);

    private LogProbsFile() {}

    /** u16 per row: the header floats and the vocabulary, padded to an even count. */
    static int rowLength(int vocab) {
        return 2 * ((vocab + 1) / 2) + 4;
    }

    /** Writes a base file as a perplexity run scores its chunks. */
    public static final class Writer implements Closeable {
        private final OutputStream out;
        private final short[] row;
        private final ByteBuffer bytes;
        private final int vocab;

        /**
         * Opens {@code path} and writes the header and every chunk's tokens ({@code tokens[chunkSize*chunks]}).
         *
         * @param path      the file to create, replaced if it exists
         * @param chunkSize tokens per chunk (the perplexity run's context)
         * @param vocab     the model's vocabulary size, the number of log-probabilities in a row
         * @param chunks    how many chunks the run scores
         * @param tokens    the run's tokens; the first {@code chunkSize*chunks} are written
         * @throws VellamaException if the file cannot be written
         */
        public Writer(Path path, int chunkSize, int vocab, int chunks, int[] tokens) {
            this.vocab = vocab;
            this.row = new short[rowLength(vocab)];
            this.bytes = ByteBuffer.allocate(row.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            try {
                out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20);
                ByteBuffer head = ByteBuffer.allocate(8 + 12 + 4 * chunkSize * chunks).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(chunkSize).putInt(vocab).putInt(chunks);
                for (int i = 0; i < chunkSize * chunks; i++) {
                    head.putInt(tokens[i]);
                }
                out.write(head.array());
            } catch (IOException e) {
                throw new VellamaException("cannot write " + path + ": " + e.getMessage(), e);
            }
        }

        /**
         * Writes one scored position's row from {@code logits[from .. from+vocab)} and returns its negative
         * log-likelihood of {@code target}, both as llama.cpp computes them (float arithmetic, double sum).
         *
         * @param logits the chunk's logits, {@code vocab} per position
         * @param from   index in {@code logits} of the position's first logit
         * @param target the token that follows the position in the text
         * @return the negative natural log of the probability of {@code target}
         * @throws UncheckedIOException if the row cannot be written
         */
        public double write(float[] logits, int from, int target) {
            float max = logits[from];
            float min = logits[from];
            for (int i = 1; i < vocab; i++) {
                max = Math.max(max, logits[from + i]);
                min = Math.min(min, logits[from + i]);
            }
            min = Math.max(min, max - 16);
            double sumExp = 0;
            for (int i = 0; i < vocab; i++) {
                sumExp += (float) Math.exp(logits[from + i] - max);
            }
            float logSumExp = (float) Math.log(sumExp);
            float minLogProb = min - max - logSumExp;
            float scale = (max - min) / 65535f;
            int a = Float.floatToRawIntBits(scale);
            int b = Float.floatToRawIntBits(minLogProb);
            row[0] = (short) a;
            row[1] = (short) (a >>> 16);
            row[2] = (short) b;
            row[3] = (short) (b >>> 16);
            Arrays.fill(row, 4, row.length, (short) 0);
            if (scale != 0) {
                float inv = 1 / scale;
                for (int i = 0; i < vocab; i++) {
                    float l = logits[from + i];
                    row[4 + i] = l > min ? (short) nearestInt(inv * (l - min)) : 0;
                }
            }
            bytes.clear();
            bytes.asShortBuffer().put(row);
            try {
                out.write(bytes.array());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return max + logSumExp - logits[from + target];
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** ggml's nearest_int: the float added to 1.5·2^23 rounds it to the nearest integer, ties to even. */
    static int nearestInt(float f) {
        int bits = Float.floatToRawIntBits(f + 12582912f);
        return (bits & 0x007fffff) - 0x00400000;
    }

    /** Reads a base file: the header and tokens at once, then the rows chunk by chunk. */
    public static final class Reader implements Closeable {
        private final DataInputStream in;
        private final Path path;
        private final int chunkSize;
        private final int vocab;
        private final int chunks;
        private final int[] tokens;
        private final byte[] chunkBytes;

        /**
         * Opens {@code path}, checks its header against its size and reads every chunk's tokens.
         *
         * @param path a file written by llama-perplexity's {@code --kl-divergence-base} or by {@link Writer}
         * @throws VellamaException if the file is missing, not such a file, cut, or cannot be read
         */
        public Reader(Path path) {
            this.path = path;
            try {
                InputStream raw = Files.newInputStream(path);
                in = new DataInputStream(new BufferedInputStream(raw, 1 << 20));
                byte[] magic = new byte[8];
                in.readFully(magic);
                if (!Arrays.equals(magic, MAGIC)) {
                    in.close();
                    throw new VellamaException(path + " is not a file of log-probabilities (llama-perplexity's "
                            + "--kl-divergence-base output)");
                }
                ByteBuffer head = ByteBuffer.wrap(in.readNBytes(12)).order(ByteOrder.LITTLE_ENDIAN);
                if (head.remaining() < 12) {
                    throw new EOFException();
                }
                chunkSize = head.getInt();
                vocab = head.getInt();
                chunks = head.getInt();
                if (chunkSize < 4 || vocab < 1 || chunks < 1 || (long) chunkSize * chunks > 1L << 28) {
                    in.close();
                    throw new VellamaException(path + ": a header of chunk size " + chunkSize + ", vocabulary " + vocab
                            + " and " + chunks + " chunks is not one llama-perplexity writes");
                }
                long expected = 20L + 4L * chunkSize * chunks
                        + 2L * rowLength(vocab) * scoredPerChunk(chunkSize) * chunks;
                long size = Files.size(path);
                if (size != expected) {
                    in.close();
                    throw new VellamaException(path + " is " + size + " bytes; its header says " + expected
                            + " (a cut or damaged file)");
                }
                ByteBuffer t = ByteBuffer.wrap(in.readNBytes(4 * chunkSize * chunks)).order(ByteOrder.LITTLE_ENDIAN);
                tokens = new int[chunkSize * chunks];
                t.asIntBuffer().get(tokens);
                chunkBytes = new byte[2 * rowLength(vocab) * scoredPerChunk(chunkSize)];
            } catch (NoSuchFileException e) {
                throw new VellamaException("no such file: " + path);
            } catch (EOFException e) {
                throw new VellamaException(path + " ends inside its header (a cut file)");
            } catch (IOException e) {
                throw new VellamaException("cannot read " + path + ": " + e.getMessage(), e);
            }
        }

        /** {@return the tokens per chunk, the base run's context} */
        public int chunkSize() {
            return chunkSize;
        }

        /** {@return the base model's vocabulary size, the log-probabilities per row} */
        public int vocab() {
            return vocab;
        }

        /** {@return how many chunks the file holds} */
        public int chunks() {
            return chunks;
        }

        /**
         * {@return a copy of every chunk's tokens, as the base run evaluated them (each chunk's first replaced by BOS
         * when evaluated)}
         */
        public int[] tokens() {
            return tokens.clone();
        }

        /** The next chunk's rows, {@code scoredPerChunk(chunkSize) × rowLength(vocab)} u16 as shorts. */
        short[] nextChunk() {
            try {
                in.readFully(chunkBytes);
            } catch (IOException e) {
                throw new VellamaException(path + ": cannot read the next chunk: " + e.getMessage(), e);
            }
            short[] rows = new short[chunkBytes.length / 2];
            ByteBuffer.wrap(chunkBytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(rows);
            return rows;
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Positions scored in a chunk: the second half, less the last (it predicts nothing inside the chunk). */
    static int scoredPerChunk(int chunkSize) {
        return chunkSize - 1 - chunkSize / 2;
    }
}
