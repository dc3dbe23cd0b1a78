import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

// GuideTrust is what any JSSE client (JavaMail among them) does with the
// trust store docs/guide-local-ses.md has the reader make with keytool:
// STARTTLS with the JVM's default SSLSocketFactory, which reads
// -Djavax.net.ssl.trustStore, the host name checked as
// mail.smtp.ssl.checkserveridentity does, then AUTH PLAIN and one message.
// e2e/guide_local_ses_test.go compiles and runs it.
//
// Usage: java -Djavax.net.ssl.trustStore=… GuideTrust HOST PORT USER PASSWORD FROM TO SUBJECT
public class GuideTrust {
    private static BufferedReader in;
    private static Writer out;

    public static void main(String[] args) throws Exception {
        String host = args[0], user = args[2], pass = args[3], from = args[4], to = args[5], subject = args[6];
        int port = Integer.parseInt(args[1]);
        Socket plain = new Socket(host, port);
        use(plain);
        expect("220");
        command("EHLO guide.example", "250");
        command("STARTTLS", "220");
        SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(plain, host, port, true);
        SSLParameters p = tls.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name host
        tls.setSSLParameters(p);
        tls.startHandshake();
        use(tls);
        command("EHLO guide.example", "250");
        String plainAuth = Base64.getEncoder().encodeToString(("\0" + user + "\0" + pass).getBytes(StandardCharsets.UTF_8));
        command("AUTH PLAIN " + plainAuth, "235");
        command("MAIL FROM:<" + from + ">", "250");
        command("RCPT TO:<" + to + ">", "250");
        command("DATA", "354");
        String reply = command("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nHello from Java.\r\n.", "250");
        command("QUIT", "221");
        System.out.println(reply);
    }

    private static void use(Socket s) throws IOException {
        in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.US_ASCII);
    }

    private static String command(String line, String code) throws IOException {
        out.write(line + "\r\n");
        out.flush();
        return expect(code);
    }

    // expect reads one (multi-line) reply and fails unless it has code.
    private static String expect(String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed, expected " + code);
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) {
            throw new IOException("expected " + code + ", got: " + line);
        }
        return line;
    }
}
