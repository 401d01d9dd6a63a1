package dev.vellama.runtime;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A batch engine listener that waits for a request's result (or failure), for tests of any package; a subclass may also look at the tokens. */
public class ResultFuture implements BatchEngine.Listener {
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();

    @Override
    public void onToken(GeneratedToken token) {
    }

    @Override
    public void onEnd(GenerationResult r) {
        result.complete(r);
    }

    @Override
    public void onError(RuntimeException error) {
        result.completeExceptionally(error);
    }

    /**
     * The request's result, waiting at most a minute.
     *
     * @return the result
     * @throws Exception the request's failure, or a timeout
     */
    public GenerationResult await() throws Exception {
        return result.get(60, TimeUnit.SECONDS);
    }
}
