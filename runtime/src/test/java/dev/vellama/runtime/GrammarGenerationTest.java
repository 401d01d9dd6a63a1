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
}
