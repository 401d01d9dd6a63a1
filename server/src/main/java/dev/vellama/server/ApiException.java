package dev.vellama.server;

/**
 * A request the server answers with an OpenAI error object: the HTTP status, the error's {@code type} and
 * {@code code}, and the request field it is about ({@code param}, may be null).
 */
final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;
    private final String param;

    ApiException(int status, String type, String code, String param, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    /** 400: a field is missing, of the wrong type or out of range. */
    static ApiException badField(String param, String message) {
        return new ApiException(400, "invalid_request_error", "invalid_value", param, message);
    }

    /** 400: the body is not what the endpoint reads. */
    static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request_error", "invalid_request", null, message);
    }

    int status() {
        return status;
    }

    String type() {
        return type;
    }

    String code() {
        return code;
    }

    String param() {
        return param;
    }
}
