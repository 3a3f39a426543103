//! Runs one command: opens the store, makes the library call, and builds the JSON
//! document the service would answer with.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use localkms::crypto::blob::BLOB_MAGIC;
use localkms::crypto::{padding_name, Algorithm, Mode};
use localkms::service::{
    Client, CreateKeyRequest, DataKeyRequest, DataKeyResponse, DecryptRequest, EncryptRequest,
    EncryptResponse, OpenOptions,
};
use localkms::{Error, ErrorKind, Result};
use zeroize::Zeroizing;

use crate::cli::{
    AdvanceEncryptArgs, AliasArgs, BlobFormat, Command, CopyArgs, CreateKeyArgs, DataKeyArgs,
    DecryptArgs, EncryptArgs, ImportArgs, ImportVersionArgs, InitArgs, KeyArgs, RotationPolicyArgs,
    StoreArgs, StoreCommand,
};
use crate::input::{self, KeyFile};
use crate::location::{absolute, StoreName};
use crate::output::JsonObject;

/// Runs `command` and returns the document to print on standard output.
pub fn run(command: Command) -> Result<Zeroizing<String>> {
    match command {
        Command::Init(args) => init(&args),
        Command::CreateKey(args) => create_key(&args),
        Command::DescribeKey(args) => library_json(open(&args.store)?.describe_key(&args.key_id)),
        Command::ListKeys(args) => library_json(open(&args.store)?.list_keys()),
        Command::ListKeyVersions(args) => {
            library_json(open(&args.store)?.list_key_versions(&args.key_id))
        }
        Command::ListAliases(args) => library_json(open(&args.store)?.list_aliases()),
        Command::EnableKey(args) => on_key(&args, Client::enable_key),
        Command::DisableKey(args) => on_key(&args, Client::disable_key),
        Command::CancelKeyDeletion(args) => on_key(&args, Client::cancel_key_deletion),
        Command::ScheduleKeyDeletion(args) => on_key(&args.key, |client, key_id| {
            client.schedule_key_deletion(key_id, args.pending_window_in_days)
        }),
        Command::ImportKeyMaterial(args) => import_key_material(args),
        Command::ImportKeyVersion(args) => import_key_version(args),
        Command::CreateAlias(args) => on_alias(&args, Client::create_alias),
        Command::UpdateAlias(args) => on_alias(&args, Client::update_alias),
        Command::DeleteAlias(args) => {
            open(&args.store)?.delete_alias(&args.alias_name)?;
            request_id_only()
        }
        Command::Rotate(args) => rotate(&args),
        Command::UpdateRotationPolicy(args) => update_rotation_policy(&args),
        Command::AdvanceEncrypt(args) => advance_encrypt(args),
        Command::Encrypt(args) => encrypt(args, BlobFormat::Dollar, Client::encrypt),
        Command::AdvanceDecrypt(args) => decrypt(&args, Client::advance_decrypt),
        Command::Decrypt(args) => decrypt(&args, Client::decrypt),
        Command::GenerateDataKey(args) => data_key(&args, Client::generate_data_key),
        Command::AdvanceGenerateDataKey(args) => data_key(&args, Client::advance_generate_data_key),
        Command::Store(StoreCommand::Copy(args)) => store_copy(&args),
    }
}

/// Opens the existing store named by `args`.
fn open(args: &StoreArgs) -> Result<Client> {
    open_store(&args.store, &args.master_key_file)
}

/// Opens the existing store `store`, sealed under the key in `master_key_file`.
/// A missing file is refused here (the library would say `create_if_missing`); a
/// URL is left to the library, which tells a database without a store.
fn open_store(store: &StoreName, master_key_file: &Path) -> Result<Client> {
    let options = OpenOptions {
        master_key_file: Some(master_key_file),
        ..Default::default()
    };
    match store {
        StoreName::Path(path) => {
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::KeyStoreIo,
                    format!(
                        "The key store file {} does not exist; create it with `localkms init`.",
                        path.display()
                    ),
                ));
            }
            Client::open(&OpenOptions {
                keystore_path: Some(path),
                ..options
            })
        }
        StoreName::Url(url) => Client::open(&OpenOptions {
            keystore_url: Some(url),
            ..options
        })
        .map_err(in_cli_terms),
    }
}

/// Opens the store `store`, creating it (an SQLite file, or the schema in a
/// PostgreSQL database) when it is missing.
fn open_or_create(store: &StoreName, master_key_file: &Path) -> Result<Client> {
    let options = OpenOptions {
        master_key_file: Some(master_key_file),
        create_if_missing: true,
        ..Default::default()
    };
    match store {
        StoreName::Path(path) => Client::open(&OpenOptions {
            keystore_path: Some(path),
            ..options
        }),
        StoreName::Url(url) => Client::open(&OpenOptions {
            keystore_url: Some(url),
            ..options
        }),
    }
}

/// The library's error, with the library option it names (`create_if_missing`)
/// put as the command that does it. The message is rewritten, so the error gets
/// a fresh RequestId when printed.
fn in_cli_terms(error: Error) -> Error {
    const LIBRARY_TERMS: &str = "set create_if_missing to create it";
    if !error.message().contains(LIBRARY_TERMS) {
        return error;
    }
    Error::new(
        error.kind(),
        error.message().replace(
            LIBRARY_TERMS,
            "create it with `localkms init` or `localkms store copy --to`",
        ),
    )
}

/// A fresh RequestId, for calls whose library answer carries none.
fn new_request_id() -> Result<String> {
    localkms::ids::new_request_id()
}

/// `{"RequestId": "..."}`: the answer of the calls that return nothing else.
fn request_id_only() -> Result<Zeroizing<String>> {
    Ok(JsonObject::new()
        .string("RequestId", &new_request_id()?)
        .finish())
}

/// The library's own JSON document, as is.
fn library_json(result: Result<String>) -> Result<Zeroizing<String>> {
    result.map(Zeroizing::new)
}

fn on_key(
    args: &KeyArgs,
    call: impl FnOnce(&Client, &str) -> Result<()>,
) -> Result<Zeroizing<String>> {
    call(&open(&args.store)?, &args.key_id)?;
    request_id_only()
}

fn on_alias(
    args: &AliasArgs,
    call: impl FnOnce(&Client, &str, &str) -> Result<()>,
) -> Result<Zeroizing<String>> {
    call(&open(&args.store)?, &args.alias_name, &args.key_id)?;
    request_id_only()
}

fn init(args: &InitArgs) -> Result<Zeroizing<String>> {
    let store = &args.store;
    let key_file = input::create_master_key_file(&store.master_key_file, args.use_existing_key)?;
    let opened = open_or_create(&store.store, &store.master_key_file);
    if let Err(e) = opened {
        // A key made just now that cannot open the store is of no use: leave nothing.
        if matches!(key_file, KeyFile::Created) {
            let _ = std::fs::remove_file(&store.master_key_file);
        }
        return Err(e);
    }
    Ok(JsonObject::new()
        .string("Store", &store.store.shown())
        .string("MasterKeyFile", &absolute(&store.master_key_file))
        .finish())
}

/// CreateKey answers with the new key's metadata: the DescribeKey document.
fn create_key(args: &CreateKeyArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.store)?;
    let key_id = client.create_key(&CreateKeyRequest {
        key_spec: args.key_spec.as_deref(),
        key_usage: args.key_usage.as_deref(),
        origin: args.origin.as_deref(),
        description: args.description.as_deref(),
        key_id: args.key_id.as_deref(),
        algorithms: args.algorithms.as_deref(),
    })?;
    library_json(client.describe_key(&key_id))
}

fn import_key_material(mut args: ImportArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.key.store)?;
    let material = input::read_key_material(&mut args.material)?;
    client.import_key_material(&args.key.key_id, &material, args.key_material_expire_unix)?;
    request_id_only()
}

/// ImportKeyVersion: `{"KeyId","KeyVersionId","RequestId"}`, as CreateKeyVersion.
fn import_key_version(mut args: ImportVersionArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.key.store)?;
    let material = input::read_key_material(&mut args.material)?;
    let key_version_id = client.import_key_version(
        &args.key.key_id,
        args.key_version_id.as_deref(),
        &material,
        args.key_material_expire_unix,
    )?;
    // A mirrored key's versions do not name it: show the real KeyId of an alias.
    let key_id = if args.key.key_id.starts_with("alias/") {
        real_key_id(&client, &args.key.key_id)?
    } else {
        args.key.key_id.clone()
    };
    Ok(JsonObject::new()
        .string("KeyId", &key_id)
        .string("KeyVersionId", &key_version_id)
        .string("RequestId", &new_request_id()?)
        .finish())
}

/// The KeyId an alias names, from DescribeKey.
fn real_key_id(client: &Client, key_id: &str) -> Result<String> {
    let described: serde_json::Value = serde_json::from_str(&client.describe_key(key_id)?)
        .map_err(|e| Error::internal(format!("DescribeKey answered with bad JSON: {e}.")))?;
    described["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::internal("DescribeKey answered without a KeyId."))
}

/// CreateKeyVersion: `{"KeyId","KeyVersionId","RequestId"}`.
fn rotate(args: &KeyArgs) -> Result<Zeroizing<String>> {
    let key_version_id = open(&args.store)?.rotate_key(&args.key_id)?;
    Ok(JsonObject::new()
        .string("KeyId", localkms::ids::key_id_of_version(&key_version_id))
        .string("KeyVersionId", &key_version_id)
        .string("RequestId", &new_request_id()?)
        .finish())
}

fn update_rotation_policy(args: &RotationPolicyArgs) -> Result<Zeroizing<String>> {
    open(&args.key.store)?.update_rotation_policy(
        &args.key.key_id,
        args.enable_automatic_rotation,
        args.rotation_interval.as_deref(),
    )?;
    request_id_only()
}

/// The refusal of `--blob-format gateway` for an algorithm that is not GCM.
fn gateway_needs_gcm(algorithm: &str) -> Error {
    Error::invalid_parameter(
        "BlobFormat",
        format!(
            "The gateway blob format names no algorithm and is always GCM \
             (AES_GCM or SM4_GCM); it cannot hold {algorithm}. Use --blob-format dollar."
        ),
    )
}

/// AdvanceEncrypt, in the blob format asked for.
fn advance_encrypt(args: AdvanceEncryptArgs) -> Result<Zeroizing<String>> {
    encrypt(args.encrypt, args.blob_format, Client::advance_encrypt)
}

/// AdvanceEncrypt / Encrypt. `format` is that of the AdvanceEncrypt blob (Encrypt
/// passes `Dollar`: its bare ciphertext is left as it is).
fn encrypt(
    mut args: EncryptArgs,
    format: BlobFormat,
    call: impl FnOnce(&Client, &EncryptRequest<'_>) -> Result<EncryptResponse>,
) -> Result<Zeroizing<String>> {
    // Parameters first: a bad one is reported before standard input is read. An
    // unknown algorithm name is left to the library to report.
    if format == BlobFormat::Gateway {
        if let Some(name) = args.algorithm.as_deref().filter(|a| !a.is_empty()) {
            if Algorithm::from_name(name).is_some_and(|a| a.mode() != Mode::Gcm) {
                return Err(gateway_needs_gcm(name));
            }
        }
    }
    let iv = input::optional_base64("Iv", args.iv.as_deref())?;
    let aad = input::read_aad(&args.aad)?;
    let client = open(&args.store)?;
    let plaintext = input::read_plaintext(&mut args.plaintext)?;
    let response = call(
        &client,
        &EncryptRequest {
            key_id: &args.key_id,
            plaintext: &plaintext,
            algorithm: args.algorithm.as_deref(),
            iv: &iv,
            aad: &aad,
            padding_mode: args.padding_mode.as_deref(),
        },
    )?;
    let blob = match format {
        BlobFormat::Dollar => &response.ciphertext_blob[..],
        // The '$' blob of a GCM algorithm without magic, version/padding and
        // algorithm bytes: KeyVersionId | Iv | ciphertext || tag.
        BlobFormat::Gateway if response.algorithm.mode() == Mode::Gcm => {
            match response.ciphertext_blob.as_slice() {
                [BLOB_MAGIC, _, _, body @ ..] => body,
                _ => {
                    return Err(Error::internal(
                        "AdvanceEncrypt answered without a '$' blob.",
                    ))
                }
            }
        }
        BlobFormat::Gateway => return Err(gateway_needs_gcm(response.algorithm.name())),
    };
    Ok(JsonObject::new()
        .base64("CiphertextBlob", blob)
        .string("KeyId", &response.key_id)
        .string("KeyVersionId", &response.key_version_id)
        .string("Algorithm", response.algorithm.name())
        .base64("Iv", &response.iv)
        .string("PaddingMode", padding_name(response.padding_mode))
        .string("RequestId", &response.request_id)
        .finish())
}

/// AdvanceDecrypt / Decrypt.
fn decrypt(
    args: &DecryptArgs,
    call: impl FnOnce(&Client, &DecryptRequest<'_>) -> Result<localkms::service::DecryptResponse>,
) -> Result<Zeroizing<String>> {
    let iv = input::optional_base64("Iv", args.iv.as_deref())?;
    let aad = input::read_aad(&args.aad)?;
    let client = open(&args.store)?;
    let ciphertext = input::read_ciphertext(&args.ciphertext)?;
    let response = call(
        &client,
        &DecryptRequest {
            ciphertext_blob: &ciphertext,
            key_id: args.key_id.as_deref(),
            algorithm: args.algorithm.as_deref(),
            iv: &iv,
            aad: &aad,
            padding_mode: args.padding_mode.as_deref(),
        },
    )?;
    let mut document = JsonObject::new();
    match &args.output_plaintext_file {
        Some(path) => input::write_plaintext(path, &response.plaintext)?,
        None => document = document.base64("Plaintext", &response.plaintext),
    }
    Ok(document
        .string("KeyId", &response.key_id)
        .string("KeyVersionId", &response.key_version_id)
        .string("Algorithm", response.algorithm.name())
        .string("PaddingMode", padding_name(response.padding_mode))
        .string("RequestId", &response.request_id)
        .finish())
}

/// GenerateDataKey / AdvanceGenerateDataKey.
fn data_key(
    args: &DataKeyArgs,
    call: impl FnOnce(&Client, &DataKeyRequest<'_>) -> Result<DataKeyResponse>,
) -> Result<Zeroizing<String>> {
    let aad = input::read_aad(&args.aad)?;
    let client = open(&args.store)?;
    let response = call(
        &client,
        &DataKeyRequest {
            key_id: &args.key_id,
            number_of_bytes: args.number_of_bytes,
            aad: &aad,
        },
    )?;
    Ok(JsonObject::new()
        .base64("Plaintext", &response.plaintext)
        .base64("CiphertextBlob", &response.ciphertext_blob)
        .string("KeyId", &response.key_id)
        .string("KeyVersionId", &response.key_version_id)
        .string("Algorithm", response.algorithm.name())
        .base64("Iv", &response.iv)
        .string("RequestId", &response.request_id)
        .finish())
}

/// The first bytes of a sealed store file of localkms 0.1.
const V1_MAGIC: &[u8; 8] = b"LOCALKMS";

/// Whether `path` is a regular file that starts like a store file of localkms 0.1.
/// Anything that cannot be read so is left to the library to report.
fn is_v1_file(path: &Path) -> bool {
    // O_NONBLOCK: a FIFO planted at the path must not hang the tool.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let Ok(file) = file else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 8];
    read_head(file, &mut head).is_ok_and(|n| n == head.len()) && &head == V1_MAGIC
}

/// Reads up to `head.len()` bytes; the number read.
fn read_head(mut file: File, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The master-key file of one side of a copy: its own option, or --master-key-file.
fn copy_key_file<'a>(
    own: Option<&'a Path>,
    shared: Option<&'a Path>,
    param: &str,
) -> Result<&'a Path> {
    own.or(shared)
        .ok_or_else(|| Error::missing_parameter(param))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `store copy`: everything of the source into a new or empty destination,
/// verified. The source is opened first, so a source that cannot be read leaves
/// no destination behind.
fn store_copy(args: &CopyArgs) -> Result<Zeroizing<String>> {
    let shared = args.master_key_file.as_deref();
    let from_key = copy_key_file(
        args.from_master_key_file.as_deref(),
        shared,
        "FromMasterKeyFile",
    )?;
    let to_key = copy_key_file(
        args.to_master_key_file.as_deref(),
        shared,
        "ToMasterKeyFile",
    )?;
    let source = match &args.from {
        StoreName::Path(path) if is_v1_file(path) => Client::open_v1_file(&OpenOptions {
            keystore_path: Some(path),
            master_key_file: Some(from_key),
            ..Default::default()
        })?,
        from => open_store(from, from_key)?,
    };
    let destination = open_or_create(&args.to, to_key)?;
    let report = source.copy_into(&destination)?;
    Ok(JsonObject::new()
        .number("Keys", count(report.keys))
        .number("Versions", count(report.versions))
        .number("Aliases", count(report.aliases))
        .string("From", &args.from.shown())
        .string("To", &args.to.shown())
        .string("RequestId", &report.request_id)
        .finish())
}
