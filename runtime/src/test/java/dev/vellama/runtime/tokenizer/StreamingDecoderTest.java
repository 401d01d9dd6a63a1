package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    @Test
    void holdsBackAnEmojiUntilItsLastByte() {
        Tokenizer t = VocabFiles.vocab("llama-spm");
        int[] llama = t.encode("\uD83E\uDD99", false, false); // spelled as the space token and four byte tokens
        assertArrayEquals(new int[] {29871, 243, 162, 169, 156}, llama);
        StreamingDecoder d = t.streamingDecoder();
        assertEquals(" ", d.push(llama[0]));
        assertEquals("", d.push(llama[1]));
        assertEquals("", d.push(llama[2]));
        assertEquals("", d.push(llama[3]));
        assertTrue(d.hasPending());
        assertEquals("\uD83E\uDD99", d.push(llama[4]));
        assertFalse(d.hasPending());
        assertEquals("", d.flush());
    }

    @Test
    void streamedTextIsTheConcatenatedTokenBytes() {
        for (String vocab : new String[] {"llama-spm", "qwen2", "gpt-2"}) {
            Tokenizer t = VocabFiles.vocab(vocab);
            for (VocabFiles.Case c : VocabFiles.cases(vocab)) {
                StreamingDecoder d = t.streamingDecoder();
                StringBuilder streamed = new StringBuilder();
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                for (int id : c.ids()) {
                    String part = d.push(id);
                    assertFalse(part.contains("\uFFFD") && !c.text().contains("\uFFFD"), "broken UTF-8 emitted");
                    streamed.append(part);
                    bytes.writeBytes(t.tokenBytes(id));
                }
                streamed.append(d.flush());
                assertEquals(bytes.toString(StandardCharsets.UTF_8), streamed.toString(), vocab + " #" + c.index());
            }
        }
    }

    @Test
    void bytesThatCanNeverCompleteDoNotBlockTheStream() {
        assertEquals(1, StreamingDecoder.completePrefix(new byte[] {(byte) 0x80}), "lone continuation byte");
        assertEquals(2, StreamingDecoder.completePrefix(new byte[] {(byte) 0xE2, 'A'}));
        assertEquals(1, StreamingDecoder.completePrefix(new byte[] {'A', (byte) 0xE2}));
        assertEquals(1, StreamingDecoder.completePrefix(new byte[] {'A', (byte) 0xF0, (byte) 0x9F, (byte) 0xA6}));
        assertEquals(5, StreamingDecoder.completePrefix(new byte[] {'A', (byte) 0xF0, (byte) 0x9F, (byte) 0xA6, (byte) 0x99}));
        assertEquals(2, StreamingDecoder.completePrefix(new byte[] {'A', (byte) 0xFF}), "never a lead byte");
    }

    @Test
    void flushReleasesAnUnfinishedCharacter() {
        Tokenizer t = VocabFiles.vocab("llama-spm");
        StreamingDecoder d = t.streamingDecoder();
        assertEquals("", d.push(243));
        assertEquals("\uFFFD", d.flush());
        assertFalse(d.hasPending());
    }
}
