package localkms_test

import (
	"errors"
	"fmt"
	"log"

	"localkms.example/localkms"
)

// The README's usage example, compiled and run by go test.
func Example() {
	client, err := localkms.OpenInMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	keyID, _ := client.CreateKey(localkms.CreateKeyInput{Description: "my key"}) // Aliyun_AES_256
	_ = client.CreateAlias("alias/app", keyID)

	enc, err := client.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("secret")})
	if err != nil {
		log.Fatal(err)
	}
	dec, err := client.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(dec.Plaintext), dec.KeyVersionID == enc.KeyVersionID)
	localkms.Wipe(dec.Plaintext)

	_, err = client.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/missing"})
	var kerr *localkms.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Code, kerr.HTTPStatus, kerr.Status == localkms.StatusAliasNotFound)
	}
	// Output:
	// secret true
	// Forbidden.AliasNotFound 404 true
}
