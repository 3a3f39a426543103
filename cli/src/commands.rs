//! Runs one command: opens the store, makes the library call, and builds the JSON
//! document the service would answer with.

use localkms::crypto::blob::BLOB_MAGIC;
use localkms::crypto::{padding_name, Algorithm, Mode};
use localkms::service::{
    Client, CreateKeyRequest, DataKeyRequest, DataKeyResponse, DecryptRequest, EncryptRequest,
    EncryptResponse, Response, ServiceJson,
};
use localkms::{Error, Result};
use zeroize::Zeroizing;

use crate::cli::{
    AdvanceEncryptArgs, AliasArgs, BlobFormat, Command, CreateKeyArgs, DataKeyArgs, DecryptArgs,
    EncryptArgs, ImportArgs, ImportVersionArgs, InitArgs, KeyArgs, RotationPolicyArgs,
    StoreCommand,
};
use crate::input::{self, KeyFile};
use crate::location::absolute;
use crate::open::{open, open_or_create};
use crate::output::JsonObject;
use crate::store_copy::store_copy;

/// Runs `command` and returns the document to print on standard output.
pub fn run(command: Command) -> Result<Zeroizing<String>> {
    match command {
        Command::Init(args) => init(&args),
        Command::CreateKey(args) => create_key(&args),
        Command::DescribeKey(args) => answer(open(&args.store)?.describe_key(&args.key_id)),
        Command::ListKeys(args) => answer(open(&args.store)?.list_keys()),
        Command::ListKeyVersions(args) => {
            answer(open(&args.store)?.list_key_versions(&args.key_id))
        }
        Command::ListAliases(args) => answer(open(&args.store)?.list_aliases()),
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
        Command::DeleteAlias(args) => answer(open(&args.store)?.delete_alias(&args.alias_name)),
        Command::Rotate(args) => answer(open(&args.store)?.rotate_key(&args.key_id)),
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

/// The library's answer as the service's JSON document, with the call's RequestId.
fn answer<T: ServiceJson>(result: Result<Response<T>>) -> Result<Zeroizing<String>> {
    result.map(|answer| Zeroizing::new(answer.to_json()))
}

fn on_key(
    args: &KeyArgs,
    call: impl FnOnce(&Client, &str) -> Result<Response<()>>,
) -> Result<Zeroizing<String>> {
    answer(call(&open(&args.store)?, &args.key_id))
}

fn on_alias(
    args: &AliasArgs,
    call: impl FnOnce(&Client, &str, &str) -> Result<Response<()>>,
) -> Result<Zeroizing<String>> {
    answer(call(&open(&args.store)?, &args.alias_name, &args.key_id))
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

/// CreateKey answers with the new key's metadata, as DescribeKey does.
fn create_key(args: &CreateKeyArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.store)?;
    answer(client.create_key(&CreateKeyRequest {
        key_spec: args.key_spec.as_deref(),
        key_usage: args.key_usage.as_deref(),
        origin: args.origin.as_deref(),
        description: args.description.as_deref(),
        key_id: args.key_id.as_deref(),
        algorithms: args.algorithms.as_deref(),
    }))
}

fn import_key_material(mut args: ImportArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.key.store)?;
    let material = input::read_key_material(&mut args.material)?;
    answer(client.import_key_material(&args.key.key_id, &material, args.key_material_expire_unix))
}

/// ImportKeyVersion: `{"KeyId","KeyVersionId","RequestId"}`, as CreateKeyVersion
/// (the real KeyId, also when an alias was given).
fn import_key_version(mut args: ImportVersionArgs) -> Result<Zeroizing<String>> {
    let client = open(&args.key.store)?;
    let material = input::read_key_material(&mut args.material)?;
    answer(client.import_key_version(
        &args.key.key_id,
        args.key_version_id.as_deref(),
        &material,
        args.key_material_expire_unix,
    ))
}

fn update_rotation_policy(args: &RotationPolicyArgs) -> Result<Zeroizing<String>> {
    answer(open(&args.key.store)?.update_rotation_policy(
        &args.key.key_id,
        args.enable_automatic_rotation,
        args.rotation_interval.as_deref(),
    ))
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
