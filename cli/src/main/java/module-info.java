/** The {@code vellama} command. */
module dev.vellama.cli {
    requires dev.vellama.runtime;
    requires dev.vellama.server;
    requires info.picocli;
    requires org.jline;
    requires org.knowm.xchart;
    requires java.desktop;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires java.net.http;

    opens dev.vellama.cli to info.picocli;
}
