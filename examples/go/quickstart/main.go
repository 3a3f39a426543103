// The Go binding's first program (bindings/go/README.md): a key, an alias, a
// blob sealed and opened, and a failure read as an *localkms.Error.
package main

import (
	"errors"
	"fmt"
	"log"

	localkms "localkms.dev/localkms/bindings/go"
)

func main() {
	client, err := localkms.OpenInMemory()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	keyID, err := client.CreateKey(localkms.CreateKeyInput{Description: "my key"})
	if err != nil {
		log.Fatal(err)
	}
	if err := client.CreateAlias("alias/app", keyID); err != nil {
		log.Fatal(err)
	}
	enc, err := client.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("secret"), Aad: []byte("ctx")})
	if err != nil {
		log.Fatal(err)
	}
	dec, err := client.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, Aad: []byte("ctx")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("localkms %s: %q with %s\n", localkms.Version(), dec.Plaintext, dec.KeyVersionID)
	localkms.Wipe(dec.Plaintext)

	_, err = client.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}) // no Aad
	var kerr *localkms.Error
	if errors.As(err, &kerr) {
		fmt.Printf("without the Aad: %s (HTTP %d)\n", kerr.Code, kerr.HTTPStatus)
	}
}
