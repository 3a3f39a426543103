package localkms_test

import (
	"strings"
	"testing"
	"time"

	localkms "localkms.dev/localkms/bindings/go"
)

// RotateKey, CreateKeyVersion and ListKeyVersions through the binding: the IDs
// come back as strings of the right shape and the version list decodes. Which
// version each call uses after a rotation is the Rust suite's
// (tests/service_behaviour.rs: manual_rotation_changes_only_what_advance_encrypt_uses).
func TestRotation(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{})
	old, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := old.KeyVersionID
	v2, err := c.RotateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if !keyVersionIDRE.MatchString(v2) || v2 == v1 || !strings.HasPrefix(v2, key+"-") {
		t.Fatalf("RotateKey returned %q (old %q)", v2, v1)
	}
	newer, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("after")})
	if err != nil {
		t.Fatal(err)
	}
	if newer.KeyVersionID != v2 {
		t.Fatalf("AdvanceEncrypt after rotation used %s, want %s", newer.KeyVersionID, v2)
	}
	v3, err := c.CreateKeyVersion(key)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := c.ListKeyVersions(key)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range versions.KeyVersions {
		ids = append(ids, v.KeyVersionID)
		if v.KeyID != key || v.CreationDate.IsZero() {
			t.Fatalf("version entry %+v", v)
		}
	}
	if strings.Join(ids, ",") != strings.Join([]string{v1, v2, v3}, ",") || versions.TotalCount != 3 {
		t.Fatalf("ListKeyVersions = %v (total %d), want [%s %s %s]", ids, versions.TotalCount, v1, v2, v3)
	}
	if !strings.Contains(versions.JSON, `"KeyVersions"`) || !uuidRE.MatchString(versions.RequestID) {
		t.Fatalf("ListKeyVersions JSON %s", versions.JSON)
	}
	desc, err := c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if desc.KeyMetadata.PrimaryKeyVersion != v3 {
		t.Fatalf("PrimaryKeyVersion %s, want %s", desc.KeyMetadata.PrimaryKeyVersion, v3)
	}
}

func TestAliases(t *testing.T) {
	c := newClient(t)
	k1 := createKey(t, c, localkms.CreateKeyInput{Description: "one"})
	k2 := createKey(t, c, localkms.CreateKeyInput{Description: "two"})

	if err := c.CreateAlias("alias/app", k1); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateAlias("alias/app-backup", "alias/app"); err != nil { // an alias naming a key through an alias
		t.Fatal(err)
	}
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("via alias")})
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyID != k1 {
		t.Fatalf("encrypt through alias/app used %s, want %s", enc.KeyID, k1)
	}
	desc, err := c.DescribeKey("alias/app-backup")
	if err != nil {
		t.Fatal(err)
	}
	if desc.KeyMetadata.KeyID != k1 || desc.KeyMetadata.Description != "one" {
		t.Fatalf("DescribeKey(alias/app-backup) = %+v", desc.KeyMetadata)
	}

	err = c.CreateAlias("alias/app", k2)
	expectError(t, err, localkms.StatusAliasAlreadyExists, "AliasAlreadyExists", 400)

	if err := c.UpdateAlias("alias/app", k2); err != nil {
		t.Fatal(err)
	}
	enc2, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("via alias")})
	if err != nil {
		t.Fatal(err)
	}
	if enc2.KeyID != k2 {
		t.Fatalf("after UpdateAlias, alias/app names %s, want %s", enc2.KeyID, k2)
	}
	// The first blob still names k1's version and opens.
	if _, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}

	list, err := c.ListAliases()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range list.Aliases {
		got[a.AliasName] = a.KeyID
	}
	if len(got) != 2 || got["alias/app"] != k2 || got["alias/app-backup"] != k1 || list.TotalCount != 2 {
		t.Fatalf("ListAliases = %+v", list)
	}
	if !strings.Contains(list.JSON, `"AliasName":"alias/app"`) {
		t.Fatalf("ListAliases JSON %s", list.JSON)
	}

	if err := c.DeleteAlias("alias/app"); err != nil {
		t.Fatal(err)
	}
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: "alias/app", Plaintext: []byte("x")})
	expectError(t, err, localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	if !localkms.IsNotFound(err) {
		t.Fatal("IsNotFound(AliasNotFound) is false")
	}
	expectError(t, c.DeleteAlias("alias/app"), localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	expectError(t, c.UpdateAlias("alias/app", k1), localkms.StatusAliasNotFound, "Forbidden.AliasNotFound", 404)
	expectError(t, c.CreateAlias("no-prefix", k1), localkms.StatusInvalidParameter, "InvalidParameter", 400)
	expectError(t, c.CreateAlias("alias/acs-reserved", k1), localkms.StatusInvalidParameter, "InvalidParameter", 400)
	expectError(t, c.CreateAlias("alias/x", missingKeyID), localkms.StatusKeyNotFound, "Forbidden.KeyNotFound", 404)

	list, err = c.ListAliases()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Aliases) != 1 || list.Aliases[0].AliasName != "alias/app-backup" {
		t.Fatalf("ListAliases after delete = %+v", list.Aliases)
	}
}

func TestKeysAndDocuments(t *testing.T) {
	c := newClient(t)
	empty, err := c.ListKeys()
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.KeyIDs) != 0 || empty.TotalCount != 0 {
		t.Fatalf("ListKeys on a new store = %+v", empty)
	}
	before := time.Now().Add(-time.Second)
	k1 := createKey(t, c, localkms.CreateKeyInput{Description: "first"})
	k2 := createKey(t, c, localkms.CreateKeyInput{KeySpec: "Aliyun_AES_128", KeyUsage: "ENCRYPT/DECRYPT", Origin: "Aliyun_KMS"})
	keys, err := c.ListKeys()
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first, by CreationDate (whole seconds) then KeyId: compare as a set.
	if len(keys.KeyIDs) != 2 || !(keys.KeyIDs[0] == k1 && keys.KeyIDs[1] == k2 || keys.KeyIDs[0] == k2 && keys.KeyIDs[1] == k1) || keys.TotalCount != 2 || keys.PageNumber != 1 || !uuidRE.MatchString(keys.RequestID) {
		t.Fatalf("ListKeys = %+v", keys)
	}
	if raw, err := c.ListKeysJSON(); err != nil || !strings.HasPrefix(raw, `{"Keys":{"Key":[{"KeyId":"`+keys.KeyIDs[0]+`"}`) {
		t.Fatalf("ListKeysJSON = %s, %v", raw, err)
	}

	desc, err := c.DescribeKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	m := desc.KeyMetadata
	if m.KeyID != k1 || m.KeyState != "Enabled" || m.KeySpec != "Aliyun_AES_256" || m.KeyUsage != "ENCRYPT/DECRYPT" ||
		m.Origin != "Aliyun_KMS" || m.ProtectionLevel != "SOFTWARE" || m.Description != "first" ||
		!strings.HasPrefix(m.PrimaryKeyVersion, k1+"-") || m.AutomaticRotation != "Disabled" {
		t.Fatalf("KeyMetadata = %+v", m)
	}
	if m.CreationDate.Before(before) || m.CreationDate.After(time.Now().Add(time.Second)) || m.LastRotationDate.IsZero() {
		t.Fatalf("dates %v / %v", m.CreationDate, m.LastRotationDate)
	}
	if !m.NextRotationDate.IsZero() || !m.DeleteDate.IsZero() || m.RotationInterval != "" {
		t.Fatalf("rotation fields on a key without automatic rotation: %+v", m)
	}
	if _, ok := m.RotationPeriod(); ok {
		t.Fatal("RotationPeriod without an interval")
	}
	if !strings.HasPrefix(desc.JSON, `{"KeyMetadata":{`) || desc.RequestID == "" || !strings.Contains(desc.JSON, desc.RequestID) {
		t.Fatalf("DescribeKey JSON %s", desc.JSON)
	}
	raw, err := c.DescribeKeyJSON(k2)
	if err != nil || !strings.Contains(raw, `"KeySpec":"Aliyun_AES_128"`) {
		t.Fatalf("DescribeKeyJSON = %s, %v", raw, err)
	}
	rawVersions, err := c.ListKeyVersionsJSON(k2)
	if err != nil || !strings.Contains(rawVersions, `"KeyVersionId":"`+k2+`-`) {
		t.Fatalf("ListKeyVersionsJSON = %s, %v", rawVersions, err)
	}
	rawAliases, err := c.ListAliasesJSON()
	if err != nil || !strings.Contains(rawAliases, `"Aliases":{"Alias":[]}`) {
		t.Fatalf("ListAliasesJSON = %s, %v", rawAliases, err)
	}

	// Key states through DescribeKey.
	if err := c.DisableKey(k1); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.DescribeKey(k1); d.KeyMetadata.KeyState != "Disabled" {
		t.Fatalf("after DisableKey: %s", d.KeyMetadata.KeyState)
	}
	if err := c.EnableKey(k1); err != nil {
		t.Fatal(err)
	}
	if err := c.EnableKey(k1); err != nil { // an Enabled key stays so
		t.Fatal(err)
	}
	if err := c.ScheduleKeyDeletion(k1, 7); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "PendingDeletion" || d.KeyMetadata.DeleteDate.Sub(d.KeyMetadata.CreationDate) < 7*24*time.Hour-time.Minute {
		t.Fatalf("after ScheduleKeyDeletion: %+v", d.KeyMetadata)
	}
	if err := c.CancelKeyDeletion(k1); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.DescribeKey(k1); d.KeyMetadata.KeyState != "Enabled" || !d.KeyMetadata.DeleteDate.IsZero() {
		t.Fatalf("after CancelKeyDeletion: %+v", d.KeyMetadata)
	}

	// Asymmetric keys are created (real key pairs) but refused by the symmetric operations.
	ec := createKey(t, c, localkms.CreateKeyInput{KeySpec: "EC_P256"})
	if d, _ := c.DescribeKey(ec); d.KeyMetadata.KeySpec != "EC_P256" || d.KeyMetadata.KeyUsage != "SIGN/VERIFY" {
		t.Fatalf("EC key: %+v", d.KeyMetadata)
	}
}

func TestImportKeyMaterial(t *testing.T) {
	c := newClient(t)
	key := createKey(t, c, localkms.CreateKeyInput{Origin: "EXTERNAL", KeySpec: "Aliyun_AES_128"})
	d, err := c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "PendingImport" || d.KeyMetadata.Origin != "EXTERNAL" {
		t.Fatalf("EXTERNAL key: %+v", d.KeyMetadata)
	}
	_, err = c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("x")})
	expectError(t, err, localkms.StatusKeyPendingImport, "Rejected.PendingImport", 409)
	if !localkms.IsKeyState(err) {
		t.Fatal("IsKeyState(PendingImport) is false")
	}

	expectError(t, c.ImportKeyMaterial(key, make([]byte, 32), time.Time{}), localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	expectError(t, c.ImportKeyMaterial(key, nil, time.Time{}), localkms.StatusMissingParameter, "MissingParameter", 400)
	expectError(t, c.ImportKeyMaterial(key, randomBytes(t, 16), time.Now().Add(-time.Hour)), localkms.StatusInvalidParameter, "InvalidParameter", 400)

	material := randomBytes(t, 16)
	if err := c.ImportKeyMaterial(key, material, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	d, err = c.DescribeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "Enabled" || d.KeyMetadata.MaterialExpireTime.Before(time.Now().Add(47*time.Hour)) {
		t.Fatalf("after import: %+v", d.KeyMetadata)
	}
	enc, err := c.AdvanceEncrypt(localkms.EncryptInput{KeyID: key, Plaintext: []byte("imported")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := c.AdvanceDecrypt(localkms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "imported" {
		t.Fatalf("decrypt with imported material: %v", err)
	}
	// Other material is refused; the same material is accepted again.
	expectError(t, c.ImportKeyMaterial(key, randomBytes(t, 16), time.Time{}), localkms.StatusInvalidKeyMaterial, "InvalidKeyMaterial", 400)
	if err := c.ImportKeyMaterial(key, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// An EXTERNAL key cannot be rotated.
	_, err = c.RotateKey(key)
	expectError(t, err, localkms.StatusUnsupportedOperation, "Rejected.UnsupportedOperation", 400)
	localkms.Wipe(material)
}
