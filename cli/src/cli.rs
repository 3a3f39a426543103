//! The command line: every subcommand, its options and its help text.
//! (Over 400 lines because every subcommand's options carry the help text and examples `--help` prints; the file holds no logic.)
//!
//! Option names are the service's request parameters in kebab-case (`KeyId` →
//! `--key-id`, `PendingWindowInDays` → `--pending-window-in-days`).

use std::path::PathBuf;

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{ArgAction, ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::location::StoreName;

/// The exit statuses, shown under every command's help and in docs/cli.md.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success; one JSON document on standard output
  2  bad request: InvalidParameter, MissingParameter, Rejected.UnsupportedOperation,
     AliasAlreadyExists, InvalidKeyMaterial, InvalidCiphertext; also command-line
     usage errors (reported in plain text by the argument parser)
  3  not found: Forbidden.KeyNotFound, Forbidden.AliasNotFound,
     Forbidden.OnlySymmetricKeySupported
  4  key state: Rejected.Disabled, Rejected.PendingDeletion, Rejected.PendingImport
  5  key store: KeyStore.IOError, KeyStore.Corrupted, KeyStore.AccessDenied
  6  internal: InternalFailure
On failure {\"Code\",\"Message\",\"HttpStatus\",\"RequestId\"} is printed on standard error.";

const TOP_AFTER_HELP: &str = "\
Example:
  localkms init --store keys.kms --master-key-file master.key
  export LOCALKMS_STORE=keys.kms LOCALKMS_MASTER_KEY_FILE=master.key
  localkms create-key --description app      # prints KeyMetadata.KeyId: key-...
  localkms create-alias --alias-name alias/app --key-id key-...
  printf secret | localkms advance-encrypt --key-id alias/app

Environment:
  LOCALKMS_STORE            the key store, a path or a postgresql:// URL (instead of --store)
  LOCALKMS_MASTER_KEY_FILE  the master-key file (instead of --master-key-file)

A store is an SQLite database file (a path) or a shared PostgreSQL store
(postgresql://user:password@host:port/dbname or postgres://...). The password of a
URL is never printed; put the URL in LOCALKMS_STORE to keep it out of the process list.

Binary parameters (Iv, Aad, Plaintext, CiphertextBlob) are standard Base64 with padding,
in options and in the JSON output.";

/// The top-level parser.
#[derive(Debug, Parser)]
#[command(
    name = "localkms",
    version,
    about = "Alibaba Cloud KMS symmetric encryption, offline, on a local or shared key store",
    long_about = "Alibaba Cloud KMS symmetric encryption, offline, on a local key store (an \
        SQLite file) or a shared one (PostgreSQL).\n\n\
        Each command is one KMS API call on the store named by --store (or LOCALKMS_STORE): \
        a path or a postgresql:// URL, sealed under the master key in --master-key-file (or \
        LOCALKMS_MASTER_KEY_FILE). It prints one JSON document with the service's response \
        field names on standard output, or the service's error on standard error. Create a \
        store and its master-key file with `localkms init`; move a store with \
        `localkms store copy`.",
    after_help = TOP_AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Parses a store option: a path, or a URL (`postgresql://…`).
fn store_name() -> impl TypedValueParser<Value = StoreName> {
    OsStringValueParser::new().map(StoreName::from)
}

/// The store every command but `init` opens (it must exist).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The key store: the path of an SQLite database file, or the URL of a shared
    /// PostgreSQL store (postgresql://user:password@host:port/dbname).
    #[arg(
        long,
        env = "LOCALKMS_STORE",
        value_name = "PATH|URL",
        hide_env_values = true,
        value_parser = store_name()
    )]
    pub store: StoreName,
    /// The master-key file: 64 hexadecimal digits (or 32 raw bytes), mode 0600.
    #[arg(long, env = "LOCALKMS_MASTER_KEY_FILE", value_name = "PATH")]
    pub master_key_file: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Use the master-key file if it exists already, instead of refusing.
    #[arg(long)]
    pub use_existing_key: bool,
}

/// A command that names one key.
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The KeyId, or an alias (alias/...).
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: String,
}

/// A command that takes only the store.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct CreateKeyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Aliyun_AES_256 (default), Aliyun_AES_192, Aliyun_AES_128, Aliyun_SM4, RSA_2048,
    /// RSA_3072, RSA_4096, EC_P256 or EC_P256K.
    #[arg(long, value_name = "SPEC")]
    pub key_spec: Option<String>,
    /// ENCRYPT/DECRYPT or SIGN/VERIFY (default: the spec's usage).
    #[arg(long, value_name = "USAGE")]
    pub key_usage: Option<String>,
    /// Aliyun_KMS (default) or EXTERNAL (the key waits for import-key-material or
    /// import-key-version).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// A description, at most 8192 characters.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The KeyId of a cloud key to mirror (1 to 64 letters, digits and '-', such as
    /// the cloud's UUID form); only with --origin EXTERNAL. Default: a fresh key-... id.
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: Option<String>,
    /// The algorithms the key permits, a comma list: AES_GCM, AES_CBC, AES_ECB for
    /// an AES key, SM4_GCM, SM4_CBC, SM4_ECB for an SM4 key. Default: the GCM of the
    /// spec only; block modes cannot be added later.
    #[arg(long, value_name = "LIST")]
    pub algorithms: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScheduleDeletionArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// Days from 7 to 366 before the key is deleted.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        allow_negative_numbers = true
    )]
    pub pending_window_in_days: i32,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub material: KeyMaterialArgs,
    /// When the material expires (Unix seconds, in the future); 0: never.
    #[arg(
        long,
        visible_alias = "expire-unix",
        value_name = "UNIX",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub key_material_expire_unix: i64,
}

#[derive(Debug, Args)]
pub struct ImportVersionArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// The KeyVersionId to give the material: any 36 printable ASCII characters,
    /// such as the cloud key version's ID. Default: a fresh one.
    #[arg(long, value_name = "ID")]
    pub key_version_id: Option<String>,
    #[command(flatten)]
    pub material: KeyMaterialArgs,
    /// When the key's material expires (Unix seconds, in the future); 0: never.
    #[arg(
        long,
        visible_alias = "expire-unix",
        value_name = "UNIX",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub key_material_expire_unix: i64,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct KeyMaterialArgs {
    /// A file holding the raw key material (16, 24 or 32 bytes for AES by the key
    /// spec, 16 for SM4); `-`: standard input.
    #[arg(long, visible_alias = "material-file", value_name = "PATH")]
    pub key_material_file: Option<PathBuf>,
    /// The key material in Base64 (visible in the process list: prefer the file).
    #[arg(long, value_name = "BASE64")]
    pub key_material_base64: Option<String>,
}

#[derive(Debug, Args)]
pub struct AliasArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The alias: alias/ followed by letters, digits, '_', '/' or '-'.
    #[arg(long, value_name = "ALIAS")]
    pub alias_name: String,
    /// The KeyId (or another alias) the alias names.
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: String,
}

#[derive(Debug, Args)]
pub struct DeleteAliasArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The alias to delete.
    #[arg(long, value_name = "ALIAS")]
    pub alias_name: String,
}

#[derive(Debug, Args)]
pub struct RotationPolicyArgs {
    #[command(flatten)]
    pub key: KeyArgs,
    /// true to rotate automatically, false to stop.
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, required = true)]
    pub enable_automatic_rotation: bool,
    /// <integer><d|h|m|s>, 7d to 365d; kept from before when left out.
    #[arg(long, value_name = "INTERVAL")]
    pub rotation_interval: Option<String>,
}

/// Where the plaintext comes from: a file, Base64 text, or standard input.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct PlaintextArgs {
    /// Read the plaintext (raw bytes) from this file; `-` or neither option: standard
    /// input.
    #[arg(long, value_name = "PATH")]
    pub plaintext_file: Option<PathBuf>,
    /// The plaintext in Base64 (visible in the process list: for small test values).
    #[arg(long, value_name = "BASE64")]
    pub plaintext_base64: Option<String>,
}

/// The additional authenticated data, GCM only.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct AadArgs {
    /// Additional authenticated data in Base64 (GCM only, at most 8192 bytes);
    /// needed again to decrypt.
    #[arg(long, value_name = "BASE64")]
    pub aad: Option<String>,
    /// Read the Aad (raw bytes) from this file.
    #[arg(long, value_name = "PATH")]
    pub aad_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The KeyId, or an alias (alias/...).
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: String,
    #[command(flatten)]
    pub plaintext: PlaintextArgs,
    /// The GCM of the key's cipher (default: AES_GCM, or SM4_GCM for an SM4 key);
    /// AES_CBC, AES_ECB, SM4_CBC or SM4_ECB only for a key created with them
    /// (create-key --algorithms).
    #[arg(long, value_name = "ALGORITHM")]
    pub algorithm: Option<String>,
    /// The IV in Base64: 12 bytes for GCM, 16 for CBC, none for ECB.
    /// Leave it out for a random one (recommended).
    #[arg(long, value_name = "BASE64")]
    pub iv: Option<String>,
    #[command(flatten)]
    pub aad: AadArgs,
    /// PKCS7_PADDING (default) or NO_PADDING; CBC and ECB only.
    #[arg(long, value_name = "PADDING")]
    pub padding_mode: Option<String>,
}

/// The layout of an AdvanceEncrypt blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BlobFormat {
    /// '$' | version/padding | algorithm | KeyVersionId | Iv | ciphertext [|| tag]
    Dollar,
    /// KeyVersionId | Iv | ciphertext || tag: the form Alibaba's transfer SDKs
    /// return (GCM only)
    Gateway,
}

#[derive(Debug, Args)]
pub struct AdvanceEncryptArgs {
    #[command(flatten)]
    pub encrypt: EncryptArgs,
    /// dollar (default): the '$' blob. gateway: the same blob without its first
    /// three bytes (KeyVersionId | Iv | ciphertext || tag), as the cloud's transfer
    /// SDKs return it; GCM algorithms only. advance-decrypt opens both.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = BlobFormat::Dollar)]
    pub blob_format: BlobFormat,
}

/// Where the ciphertext comes from: Base64 text, a file, or standard input.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct CiphertextArgs {
    /// The ciphertext in Base64; `-` or neither option: Base64 text on standard input.
    #[arg(long, value_name = "BASE64")]
    pub ciphertext_blob: Option<String>,
    /// Read the ciphertext (raw bytes) from this file; `-`: raw bytes on standard input.
    #[arg(long, value_name = "PATH")]
    pub ciphertext_blob_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub ciphertext: CiphertextArgs,
    /// The KeyId or an alias. decrypt: required. advance-decrypt: only for Encrypt
    /// output (an AdvanceEncrypt blob names its key version itself).
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: Option<String>,
    /// The algorithm the ciphertext was made with: the GCM of the key's cipher
    /// (default), AES_CBC, AES_ECB, SM4_CBC or SM4_ECB. For a blob it is optional, a
    /// check that the blob was made with it.
    #[arg(long, value_name = "ALGORITHM")]
    pub algorithm: Option<String>,
    /// The Iv Encrypt returned, in Base64 (Encrypt output only; ignored with a
    /// self-describing blob, which carries its own, as the service ignores it).
    #[arg(long, value_name = "BASE64")]
    pub iv: Option<String>,
    #[command(flatten)]
    pub aad: AadArgs,
    /// The PaddingMode the ciphertext was made with (CBC and ECB).
    #[arg(long, value_name = "PADDING")]
    pub padding_mode: Option<String>,
    /// Write the raw plaintext to this file (created with mode 0600) instead of
    /// printing it in Base64; the JSON then has no Plaintext.
    #[arg(long, value_name = "PATH")]
    pub output_plaintext_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DataKeyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The KeyId, or an alias (alias/...).
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: String,
    /// The length of the data key, 1 to 1024 bytes (default 32).
    #[arg(long, value_name = "N")]
    pub number_of_bytes: Option<usize>,
    #[command(flatten)]
    pub aad: AadArgs,
}

/// `store copy`: the source, the destination and their master keys.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("from_key")
        .required(true)
        .multiple(true)
        .args(["master_key_file", "from_master_key_file"])
))]
#[command(group(
    ArgGroup::new("to_key")
        .required(true)
        .multiple(true)
        .args(["master_key_file", "to_master_key_file"])
))]
pub struct CopyArgs {
    /// The store to copy from: an SQLite database file, a postgresql:// URL, or a
    /// sealed store file of localkms 0.1 (read only). Nothing in it is changed,
    /// but for a rotation or deletion already due, which opening a store carries
    /// out.
    #[arg(long, value_name = "PATH|URL", value_parser = store_name())]
    pub from: StoreName,
    /// The store to copy into: an SQLite database file or a postgresql:// URL,
    /// created if missing; it must hold no key.
    #[arg(long, value_name = "PATH|URL", value_parser = store_name())]
    pub to: StoreName,
    /// The master-key file of both stores, unless one of the two options below is
    /// given.
    #[arg(long, env = "LOCALKMS_MASTER_KEY_FILE", value_name = "PATH")]
    pub master_key_file: Option<PathBuf>,
    /// The master-key file the source is sealed under (default: --master-key-file).
    #[arg(long, value_name = "PATH")]
    pub from_master_key_file: Option<PathBuf>,
    /// The master-key file to seal the destination under (default:
    /// --master-key-file); for a new store it must exist already (see init).
    #[arg(long, value_name = "PATH")]
    pub to_master_key_file: Option<PathBuf>,
}

/// The commands on whole stores.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    #[command(
        override_usage = "localkms store copy --from <PATH|URL> --to <PATH|URL> \
            [--master-key-file <PATH>] [--from-master-key-file <PATH>] \
            [--to-master-key-file <PATH>]",
        about = "Copy every key, version and alias into an empty store, and verify it",
        long_about = "Copy everything the store --from holds (keys with all their versions \
            and material, states, rotation policies, pending deletions, aliases) into the \
            store --to, in one change, then read the destination back and check that it \
            holds exactly that. --from may be an SQLite file, a postgresql:// URL, or a \
            sealed store file of localkms 0.1 (a file that starts with LOCALKMS), which is \
            read only. --to is created if missing and must hold no key: a copy never merges \
            or overwrites (KeyStore.IOError, exit 5). The two stores may be sealed under \
            different master keys. Prints {\"Keys\",\"Versions\",\"Aliases\",\"From\",\
            \"To\",\"RequestId\"}; a URL is shown without its password.",
        after_help = "Example:\n  \
            localkms store copy --from /var/lib/app/keys.db \\\n      \
            --to postgresql://kms@db.internal/kms --master-key-file /etc/app/master.key\n  \
            # {\"Keys\":3,\"Versions\":5,\"Aliases\":2,\"From\":\"/var/lib/app/keys.db\",...}\n  \
            localkms store copy --from old-0.1.kms --to keys.db --master-key-file master.key"
    )]
    Copy(CopyArgs),
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(
        about = "Create a key store and a fresh master-key file",
        long_about = "Create a key store (if missing) and a fresh master-key file: 64 \
            hexadecimal digits, created with mode 0600. The store is an SQLite database file, \
            or, for a postgresql:// URL, the schema in an existing PostgreSQL database (init \
            never creates the database itself). An existing master-key file is never \
            overwritten: init refuses, or uses it with --use-existing-key. Prints \
            {\"Store\",\"MasterKeyFile\"}: absolute paths, and a URL without its password. \
            Keep the master-key file safe: without it the store cannot be opened.",
        after_help = "Example:\n  \
            localkms init --store /var/lib/app/keys.db --master-key-file /etc/app/master.key\n  \
            # {\"Store\":\"/var/lib/app/keys.db\",\"MasterKeyFile\":\"/etc/app/master.key\"}\n  \
            LOCALKMS_STORE=postgresql://kms:pw@db.internal/kms localkms init \\\n      \
            --master-key-file /etc/app/master.key\n  \
            # {\"Store\":\"postgresql://kms@db.internal/kms\",\"MasterKeyFile\":\"/etc/app/master.key\"}"
    )]
    Init(InitArgs),

    #[command(
        about = "CreateKey: create a key with its first version",
        long_about = "CreateKey: create a key with its initial (and primary) version. Prints \
            {\"KeyMetadata\":{...},\"RequestId\"}. With --origin EXTERNAL the key is \
            PendingImport until import-key-material or import-key-version; --key-id gives \
            such a key the KeyId of the cloud key it mirrors. A key encrypts with the GCM of \
            its spec only, unless --algorithms names block modes too.",
        after_help = "Example:\n  \
            localkms create-key --store keys.kms --master-key-file master.key \\\n      \
            --description \"orders service\"\n  \
            # {\"KeyMetadata\":{\"KeyId\":\"key-...\",\"KeyState\":\"Enabled\",...},\"RequestId\":\"...\"}\n  \
            localkms create-key --key-spec Aliyun_SM4 --algorithms SM4_GCM,SM4_CBC\n  \
            localkms create-key --origin EXTERNAL \\\n      \
            --key-id 1234abcd-12ab-34cd-56ef-1234567890ab   # a cloud key's KeyId"
    )]
    CreateKey(CreateKeyArgs),

    #[command(
        about = "DescribeKey: a key's metadata",
        long_about = "DescribeKey: prints {\"KeyMetadata\":{KeyId, KeyState, KeySpec, KeyUsage, \
            Origin, ProtectionLevel, Description, CreationDate, PrimaryKeyVersion, \
            LastRotationDate, AutomaticRotation, ...},\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms describe-key --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app"
    )]
    DescribeKey(KeyArgs),

    #[command(
        about = "ListKeys: every key in the store",
        long_about = "ListKeys: every key, oldest first, in one page: \
            {\"Keys\":{\"Key\":[{\"KeyId\"}]},\"TotalCount\",\"PageNumber\",\"PageSize\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms list-keys --store keys.kms --master-key-file master.key"
    )]
    ListKeys(ListArgs),

    #[command(
        about = "ListKeyVersions: a key's versions, initial first",
        long_about = "ListKeyVersions: the key's versions, the initial one first: \
            {\"KeyVersions\":{\"KeyVersion\":[{\"KeyId\",\"KeyVersionId\",\"CreationDate\"}]},...}.",
        after_help = "Example:\n  \
            localkms list-key-versions --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app"
    )]
    ListKeyVersions(KeyArgs),

    #[command(
        about = "EnableKey: a Disabled key becomes Enabled",
        long_about = "EnableKey: a Disabled key becomes Enabled (an Enabled one stays so). \
            Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms enable-key --store keys.kms --master-key-file master.key --key-id alias/app"
    )]
    EnableKey(KeyArgs),

    #[command(
        about = "DisableKey: an Enabled key becomes Disabled",
        long_about = "DisableKey: an Enabled key becomes Disabled; it neither encrypts nor \
            decrypts (Rejected.Disabled, exit 4) until enable-key. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms disable-key --store keys.kms --master-key-file master.key --key-id alias/app"
    )]
    DisableKey(KeyArgs),

    #[command(
        about = "ScheduleKeyDeletion: delete a key after a waiting period",
        long_about = "ScheduleKeyDeletion: the key is PendingDeletion for \
            --pending-window-in-days days (7 to 366, default 30), then deleted. \
            cancel-key-deletion undoes it meanwhile. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms schedule-key-deletion --store keys.kms --master-key-file master.key \\\n      \
            --key-id key-... --pending-window-in-days 7"
    )]
    ScheduleKeyDeletion(ScheduleDeletionArgs),

    #[command(
        about = "CancelKeyDeletion: keep a key that is PendingDeletion",
        long_about = "CancelKeyDeletion: a PendingDeletion key becomes Enabled again \
            (PendingImport for an EXTERNAL key without material). Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms cancel-key-deletion --store keys.kms --master-key-file master.key \\\n      \
            --key-id key-..."
    )]
    CancelKeyDeletion(KeyArgs),

    #[command(
        about = "ImportKeyMaterial: give an EXTERNAL key its AES material",
        long_about = "ImportKeyMaterial: give a key created with --origin EXTERNAL its raw \
            material for its initial version (32 bytes for Aliyun_AES_256, 24 for \
            Aliyun_AES_192, 16 for Aliyun_AES_128 and Aliyun_SM4). A key that had material \
            accepts only the same material again. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            head -c 32 /dev/urandom > material.bin\n  \
            localkms import-key-material --store keys.kms --master-key-file master.key \\\n      \
            --key-id key-... --key-material-file material.bin"
    )]
    ImportKeyMaterial(ImportArgs),

    #[command(
        about = "ImportKeyVersion: give an EXTERNAL key material as a named version",
        long_about = "ImportKeyVersion: give a key created with --origin EXTERNAL raw \
            material as the version --key-version-id (any 36 printable ASCII characters, \
            such as a cloud key version's ID; default: a fresh one), so that ciphertext \
            naming that version opens here. The first version imported is the key's initial \
            version; each later one becomes its primary version. The same id with the same \
            material again is accepted; with other material it is InvalidKeyMaterial. \
            Material is read as by import-key-material. Prints \
            {\"KeyId\",\"KeyVersionId\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms import-key-version --store keys.kms --master-key-file master.key \\\n      \
            --key-id 1234abcd-12ab-34cd-56ef-1234567890ab \\\n      \
            --key-version-id 0b8a2c4e-1f3d-4a5b-9c6d-7e8f9a0b1c2d \\\n      \
            --key-material-file material.bin\n  \
            # {\"KeyId\":\"1234abcd-...\",\"KeyVersionId\":\"0b8a2c4e-...\",\"RequestId\":\"...\"}"
    )]
    ImportKeyVersion(ImportVersionArgs),

    #[command(
        about = "CreateAlias: a new alias for a key",
        long_about = "CreateAlias: --alias-name names the key --key-id; an alias can be passed \
            wherever a KeyId is. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms create-alias --store keys.kms --master-key-file master.key \\\n      \
            --alias-name alias/app --key-id key-..."
    )]
    CreateAlias(AliasArgs),

    #[command(
        about = "UpdateAlias: point an existing alias at another key",
        long_about = "UpdateAlias: the existing alias --alias-name names the key --key-id from \
            now on. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms update-alias --store keys.kms --master-key-file master.key \\\n      \
            --alias-name alias/app --key-id key-..."
    )]
    UpdateAlias(AliasArgs),

    #[command(
        about = "DeleteAlias: delete an alias (not its key)",
        long_about = "DeleteAlias: the alias is gone; the key stays. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms delete-alias --store keys.kms --master-key-file master.key \\\n      \
            --alias-name alias/app"
    )]
    DeleteAlias(DeleteAliasArgs),

    #[command(
        about = "ListAliases: every alias with its key",
        long_about = "ListAliases: {\"Aliases\":{\"Alias\":[{\"AliasName\",\"KeyId\"}]},\
            \"TotalCount\",\"PageNumber\",\"PageSize\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms list-aliases --store keys.kms --master-key-file master.key"
    )]
    ListAliases(ListArgs),

    #[command(
        visible_alias = "create-key-version",
        about = "CreateKeyVersion: rotate a key now",
        long_about = "CreateKeyVersion: a new version with fresh material becomes the key's \
            primary version, used by advance-encrypt and advance-generate-data-key from now \
            on. Old versions keep decrypting. Prints {\"KeyId\",\"KeyVersionId\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms rotate --store keys.kms --master-key-file master.key --key-id alias/app\n  \
            # {\"KeyId\":\"key-...\",\"KeyVersionId\":\"key-...-...\",\"RequestId\":\"...\"}"
    )]
    Rotate(KeyArgs),

    #[command(
        about = "UpdateRotationPolicy: turn automatic rotation on or off",
        long_about = "UpdateRotationPolicy: with --enable-automatic-rotation true the key \
            rotates every --rotation-interval (<integer><d|h|m|s>, 7d to 365d); a policy whose \
            next rotation date is already past rotates at once. Prints {\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms update-rotation-policy --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app --enable-automatic-rotation true --rotation-interval 30d"
    )]
    UpdateRotationPolicy(RotationPolicyArgs),

    #[command(
        about = "AdvanceEncrypt: encrypt with the primary version into a self-describing blob",
        long_about = "AdvanceEncrypt: encrypt the plaintext (standard input, --plaintext-file \
            or --plaintext-base64) with the key's primary version. The CiphertextBlob names \
            its key version, algorithm and Iv, so advance-decrypt needs only the blob (and \
            the Aad). --blob-format gateway writes it without its first three bytes, as the \
            cloud's transfer SDKs return it (GCM only). Prints {\"CiphertextBlob\",\"KeyId\",\
            \"KeyVersionId\",\"Algorithm\",\"Iv\",\"PaddingMode\",\"RequestId\"}.",
        after_help = "Example:\n  \
            printf 'card 4111' | localkms advance-encrypt --store keys.kms \\\n      \
            --master-key-file master.key --key-id alias/app --aad b3JkZXItNDI=\n  \
            # {\"CiphertextBlob\":\"JAAC...\",\"KeyId\":\"key-...\",\"KeyVersionId\":\"...\",\
            \"Algorithm\":\"AES_GCM\",...}"
    )]
    AdvanceEncrypt(AdvanceEncryptArgs),

    #[command(
        about = "AdvanceDecrypt: decrypt an AdvanceEncrypt blob (or Encrypt output)",
        long_about = "AdvanceDecrypt: decrypt an AdvanceEncrypt or AdvanceGenerateDataKey \
            blob with the key version recorded in it; give the same Aad. The blob may be the \
            '$' form or the gateway form (KeyVersionId | Iv | ciphertext || tag) that the \
            cloud's transfer SDKs return; an --iv given with either is ignored. With --key-id (and \
            --algorithm, --iv, --padding-mode) it decrypts Encrypt output instead. The \
            ciphertext comes from --ciphertext-blob, --ciphertext-blob-file or standard input \
            (Base64 text). Prints {\"Plaintext\",\"KeyId\",\"KeyVersionId\",\"Algorithm\",\
            \"PaddingMode\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms advance-decrypt --store keys.kms --master-key-file master.key \\\n      \
            --ciphertext-blob \"$BLOB\" --aad b3JkZXItNDI= --output-plaintext-file out.bin"
    )]
    AdvanceDecrypt(DecryptArgs),

    #[command(
        about = "Encrypt: encrypt with the key's initial version (bare ciphertext)",
        long_about = "Encrypt: encrypt with the key's initial version, whatever rotations \
            happened, into a bare ciphertext. Keep KeyId, Algorithm, Iv and PaddingMode from \
            the output: decrypt needs them. Prints {\"CiphertextBlob\",\"KeyId\",\
            \"KeyVersionId\",\"Algorithm\",\"Iv\",\"PaddingMode\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms encrypt --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app --plaintext-file report.pdf"
    )]
    Encrypt(EncryptArgs),

    #[command(
        about = "Decrypt: decrypt Encrypt output",
        long_about = "Decrypt: decrypt Encrypt or GenerateDataKey output with the key's \
            initial version; give --key-id, and the --algorithm, --iv and --padding-mode that \
            Encrypt returned. A self-describing blob (the '$' or the gateway form) is opened \
            by advance-decrypt instead. Prints {\"Plaintext\",\"KeyId\",\"KeyVersionId\",\
            \"Algorithm\",\"PaddingMode\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms decrypt --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app --iv \"$IV\" --ciphertext-blob \"$BLOB\""
    )]
    Decrypt(DecryptArgs),

    #[command(
        about = "GenerateDataKey: a random data key, encrypted with the initial version",
        long_about = "GenerateDataKey: a fresh random data key (--number-of-bytes, default 32) \
            in plaintext and encrypted with the key's initial version (AES_GCM, bare \
            ciphertext: open it with decrypt and the Iv). Use the Plaintext and throw it away; \
            keep the CiphertextBlob. Prints {\"Plaintext\",\"CiphertextBlob\",\"KeyId\",\
            \"KeyVersionId\",\"Algorithm\",\"Iv\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms generate-data-key --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app --number-of-bytes 32"
    )]
    GenerateDataKey(DataKeyArgs),

    #[command(
        about = "AdvanceGenerateDataKey: a random data key in a self-describing blob",
        long_about = "AdvanceGenerateDataKey: a fresh random data key, in plaintext and \
            encrypted with the key's primary version into a self-describing blob that \
            advance-decrypt opens. Prints {\"Plaintext\",\"CiphertextBlob\",\"KeyId\",\
            \"KeyVersionId\",\"Algorithm\",\"Iv\",\"RequestId\"}.",
        after_help = "Example:\n  \
            localkms advance-generate-data-key --store keys.kms --master-key-file master.key \\\n      \
            --key-id alias/app"
    )]
    AdvanceGenerateDataKey(DataKeyArgs),

    #[command(
        subcommand,
        subcommand_required = true,
        arg_required_else_help = true,
        about = "Whole stores: store copy",
        long_about = "Commands on whole stores. store copy copies one store into another, \
            empty one: from an SQLite file to PostgreSQL (from one machine to a fleet), \
            between two SQLite files, or out of a store file of localkms 0.1.",
        after_help = "Example:\n  \
            localkms store copy --from keys.db --to postgresql://kms@db.internal/kms \\\n      \
            --master-key-file master.key"
    )]
    Store(StoreCommand),
}

/// The clap command with the exit statuses appended to every help text.
pub fn command() -> clap::Command {
    with_exit_status(Cli::command().after_help(format!("{TOP_AFTER_HELP}\n\n{EXIT_STATUS_HELP}")))
}

/// Appends the exit statuses to the help of every subcommand of `command`, at
/// every depth (`store copy`).
fn with_exit_status(command: clap::Command) -> clap::Command {
    command.mut_subcommands(|sub| {
        let example = sub
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        with_exit_status(sub.after_help(format!("{example}\n\n{EXIT_STATUS_HELP}")))
    })
}
