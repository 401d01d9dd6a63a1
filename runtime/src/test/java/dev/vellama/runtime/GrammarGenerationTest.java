package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sampling constrained by a grammar, on the shared models: every output follows it, over many seeds. */
class GrammarGenerationTest {
    private static Model stories;
    private static Model llama3;

    @BeforeAll
    static void load() throws IOException {
        stories = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
        llama3 = Model.load(TestData.model("tiny-llama3-q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        stories.close();
        llama3.close();
    }

    private static Session session(Model m) {
        return m.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2));
    }

    @Test
    void aLabelGrammarGivesOneOfTheLabels() {
        Grammar labels = Grammar.parse("root ::= \"positive\" | \"negative\" | \"neutral\"");
        try (Session s = session(stories)) {
            for (long seed = 0; seed < 12; seed++) {
                GenerationResult r = s.generate("The review was", GenerationParams.defaults().withSeed(seed).withMaxTokens(20)
                        .withTemperature(1.2f).withGrammar(labels), null);
                assertTrue(Set.of("positive", "negative", "neutral").contains(r.text().strip()), "seed " + seed + ": '" + r.text() + "'");
                assertEquals(StopReason.EOS, r.stopReason(), "the grammar's end ends the generation");
            }
        }
    }

    @Test
    void structuredJsonParsesEveryTime() throws IOException {
        Grammar person = Grammar.parse("""
                root ::= "{\\"name\\": \\"" name "\\", \\"age\\": " age ", \\"pets\\": [" (pet (", " pet){0,2})? "]}"
                name ::= [A-Z] [a-z]{1,8}
                age  ::= [1-9] [0-9]?
                pet  ::= "\\"" ("cat" | "dog" | "fish") "\\""
                """);
        ObjectMapper json = new ObjectMapper();
        for (Model m : List.of(stories, llama3)) {
            try (Session s = session(m)) {
                for (long seed = 0; seed < 8; seed++) {
                    GenerationResult r = s.generate("Here is a person:", GenerationParams.defaults().withSeed(seed)
                            .withMaxTokens(80).withGrammar(person), null);
                    assertEquals(StopReason.EOS, r.stopReason(), r.text());
                    JsonNode doc = json.readTree(r.text());
                    assertTrue(doc.get("name").asText().matches("[A-Z][a-z]{1,8}"), r.text());
                    assertTrue(doc.get("age").asInt() >= 1 && doc.get("age").asInt() <= 99, r.text());
                    assertTrue(doc.get("pets").size() <= 3, r.text());
                }
            }
        }
    }

    /** With a JSON Schema, every output over many seeds parses and validates against the schema (a real validator). */
    @Test
    void everyOutputValidatesAgainstItsJsonSchema() throws IOException {
        String schemaText = """
                {"type": "object",
                 "properties": {
                   "name": {"type": "string", "minLength": 1, "maxLength": 12},
                   "age": {"type": "integer", "minimum": 0, "maximum": 120},
                   "mood": {"enum": ["happy", "sad", "calm"]},
                   "pets": {"type": "array", "items": {"$ref": "#/$defs/pet"}, "maxItems": 2},
                   "motto": {"type": ["string", "null"], "maxLength": 20}},
                 "required": ["name", "age", "mood"],
                 "additionalProperties": false,
                 "$defs": {"pet": {"type": "object", "properties": {"kind": {"const": "cat"}, "legs": {"type": "integer", "minimum": 3, "maximum": 4}},
                                   "required": ["kind", "legs"], "additionalProperties": false}}}""";
        Grammar grammar = Grammar.fromJsonSchema(schemaText);
        ObjectMapper json = new ObjectMapper();
        com.networknt.schema.Schema schema = com.networknt.schema.SchemaRegistry
                .withDefaultDialect(com.networknt.schema.SpecificationVersion.DRAFT_2020_12)
                .getSchema(json.readTree(schemaText));
        int complete = 0;
        for (Model m : List.of(stories, llama3)) {
            try (Session s = session(m)) {
                for (long seed = 0; seed < 10; seed++) {
                    GenerationResult r = s.generate("A person as JSON:", GenerationParams.defaults().withSeed(seed)
                            .withTemperature(1.0f).withMaxTokens(160).withGrammar(grammar), null);
                    if (r.stopReason() == StopReason.LENGTH) {
                        // cut short by the limit: still a valid beginning of a sentence of the grammar
                        assertFalse(grammar.start().accept(r.text()).isDead(), r.text());
                        continue;
                    }
                    assertEquals(StopReason.EOS, r.stopReason(), r.text());
                    var errors = schema.validate(json.readTree(r.text()));
                    assertTrue(errors.isEmpty(), m.name() + " seed " + seed + ": " + r.text() + " → " + errors);
                    complete++;
                }
            }
        }
        assertTrue(complete >= 15, "most outputs end within the limit: " + complete + " of 20");
    }

    /** Characters outside ASCII come from byte tokens or multi-byte pieces; the grammar sees whole characters. */
    @Test
    void multiByteCharactersAcrossTokens() {
        Grammar accents = Grammar.parse("root ::= [àéîõü€]{3} \".\"");
        for (Model m : List.of(stories, llama3)) {
            try (Session s = session(m)) {
                for (long seed = 0; seed < 4; seed++) {
                    GenerationResult r = s.generate("Letters:", GenerationParams.defaults().withSeed(seed).withMaxTokens(30)
                            .withGrammar(accents), null);
                    assertTrue(r.text().strip().matches("[àéîõü€]{3}\\."), m.name() + ": '" + r.text() + "'");
                }
            }
        }
    }

    /** A grammar the token limit cuts short ends with LENGTH and a text that is still a valid beginning. */
    @Test
    void aLimitBeforeTheGrammarEndsLeavesAValidPrefix() {
        Grammar digits = Grammar.parse("root ::= [0-9]{40}");
        try (Session s = session(stories)) {
            GenerationResult r = s.generate("Numbers:", GenerationParams.greedy().withMaxTokens(5).withGrammar(digits), null);
            assertEquals(StopReason.LENGTH, r.stopReason());
            assertFalse(digits.start().accept(r.text().strip()).isDead(), r.text());
            assertFalse(r.text().isBlank());
        }
    }

    /**
     * The whole-vocabulary mask (tokens walked in byte order, states cached) allows exactly the tokens the grammar
     * allows one by one, at every step of a text with characters split across tokens.
     */
    @Test
    void theVocabularyMaskAgreesWithAskingTokenByToken() {
        Grammar g = Grammar.parse("""
                root ::= "{\\"k\\": " str ", \\"n\\": " [0-9]+ "}"
                str  ::= "\\"" ([^"\\\\\\x7F\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt])* "\\""
                """);
        String text = "{\"k\": \"héllo wörld 日本語 😀 \\\" x\", \"n\": 42}";
        assertTrue(g.accepts(text), text);
        for (Model m : List.of(stories, llama3)) {
            var tokenizer = m.tokenizer();
            int vocab = tokenizer.vocabSize();
            GrammarMask mask = new GrammarMask(g, tokenizer, vocab);
            float[] logits = new float[vocab];
            byte[] rest = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int steps = 0;
            while (rest.length > 0) {
                float[] masked = mask.mask(logits);
                // the next token spells the text on; alternately the longest and the shortest such, so that
                // byte tokens split characters where the vocabulary has them
                int chosen = -1;
                for (int id = 0; id < vocab; id++) {
                    boolean one = mask.allows(id);
                    assertEquals(one, masked[id] == 0f, m.name() + " step " + steps + " token " + id);
                    byte[] b = tokenizer.tokenBytes(id);
                    if (one && b.length > 0 && b.length <= rest.length
                            && java.util.Arrays.equals(b, 0, b.length, rest, 0, b.length)
                            && (chosen < 0 || (steps % 2 == 0) == (b.length > tokenizer.tokenBytes(chosen).length))) {
                        chosen = id;
                    }
                }
                assertTrue(chosen >= 0, m.name() + " step " + steps + ": no allowed token spells the text on");
                mask.accept(chosen);
                rest = java.util.Arrays.copyOfRange(rest, tokenizer.tokenBytes(chosen).length, rest.length);
                steps++;
            }
            float[] end = mask.mask(logits);
            int eos = tokenizer.eos();
            assertEquals(0f, end[eos], "the end is allowed after the whole sentence");
        }
    }

    /**
     * UTF-8's ED A0..BF would be surrogates: after a lone ED a token starting with such a byte is refused, or no
     * token could ever finish the character and the generation would stop for nothing (seen on a random model).
     */
    @Test
    void aCharacterThatCanOnlyBeASurrogateIsRefused() {
        Grammar anyText = Grammar.parse("root ::= [^\\x00]*");
        var tokenizer = llama3.tokenizer();
        int ed = -1;
        int b4 = -1;
        int nine = -1;
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            byte[] b = tokenizer.tokenBytes(id);
            if (b.length == 1 && (b[0] & 0xff) == 0xED) {
                ed = id;
            } else if (b.length == 1 && (b[0] & 0xff) == 0xB4) {
                b4 = id;
            } else if (b.length == 1 && (b[0] & 0xff) == 0x9F) {
                nine = id;
            }
        }
        assertTrue(ed >= 0 && b4 >= 0 && nine >= 0, "byte-level BPE has a token for every byte");
        GrammarMask mask = new GrammarMask(anyText, tokenizer, tokenizer.vocabSize());
        mask.accept(ed);
        assertFalse(mask.allows(b4), "ED B4 .. is a surrogate");
        assertTrue(mask.allows(nine), "ED 9F .. is U+D7C0..U+D7FF");
        float[] masked = mask.mask(new float[tokenizer.vocabSize()]);
        assertEquals(Float.NEGATIVE_INFINITY, masked[b4]);
        assertEquals(0f, masked[nine]);
    }

    /** A lazy grammar leaves the output free until its trigger appears, then holds it from the trigger on. */
    @Test
    void aLazyGrammarHoldsFromItsTriggerOn() {
        try (Session s = session(stories)) {
            String free = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(40), null).text();
            int at = free.indexOf(" the");
            assertTrue(at >= 0, "the free text has the trigger: " + free);
            s.reset();
            Grammar after = Grammar.parse("root ::= \" the\" \" \"? [0-9] [0-9] \".\"");
            GenerationResult r = s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(40)
                    .withLazyGrammar(after, List.of(" the")), null);
            assertEquals(StopReason.EOS, r.stopReason(), r.text());
            int trigger = r.text().indexOf(" the");
            assertEquals(free.substring(0, at), r.text().substring(0, trigger), "free before the trigger");
            assertTrue(r.text().substring(trigger).matches(" the ?[0-9]{2}\\."), r.text());
        }
    }
}
