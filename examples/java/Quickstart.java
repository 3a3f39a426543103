// The Java binding's first program (bindings/java/README.md): a key, an alias,
// a blob sealed and opened, and a failure read as a KmsException.
import com.localkms.DecryptRequest;
import com.localkms.DecryptResult;
import com.localkms.EncryptRequest;
import com.localkms.EncryptResult;
import com.localkms.KmsException;
import com.localkms.LocalKms;
import java.nio.charset.StandardCharsets;

public class Quickstart {
    public static void main(String[] args) {
        byte[] aad = "ctx".getBytes(StandardCharsets.UTF_8);
        try (LocalKms kms = LocalKms.openInMemory()) {
            String keyId = kms.createKey();
            kms.createAlias("alias/app", keyId);
            EncryptResult enc = kms.advanceEncrypt(EncryptRequest.builder("alias/app")
                    .plaintext("secret".getBytes(StandardCharsets.UTF_8)).aad(aad).build());
            try (DecryptResult dec = kms.advanceDecrypt(
                    DecryptRequest.builder(enc.getCiphertextBlob()).aad(aad).build())) {
                System.out.println("localkms " + LocalKms.version() + ": \""
                        + new String(dec.getPlaintext(), StandardCharsets.UTF_8) + "\" with "
                        + dec.getKeyVersionId()); // the plaintext is wiped on close
            }
            try {
                kms.advanceDecrypt(enc.getCiphertextBlob()); // no Aad
            } catch (KmsException e) {
                System.out.println("without the Aad: " + e.getCode() + " (HTTP " + e.getHttpStatus() + ")");
            }
        }
    }
}
