//! Aliases: CreateAlias, UpdateAlias, DeleteAlias (ListAliases is in describe.rs).
//! An alias names one key and is accepted wherever a KeyId is.

use super::client::Client;
use super::params::required;
use super::response::Response;
use crate::error::{Error, Result};
use crate::ids;

impl Client {
    /// CreateAlias: `alias_name` names the key `key_id` (an ID or another alias).
    pub fn create_alias(&self, alias_name: &str, key_id: &str) -> Result<Response<()>> {
        self.change(|now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            let key_id = required("KeyId", Some(key_id))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                let target = model.resolve(key_id, now)?.key_id.clone();
                if model.alias_target(alias_name).is_some() {
                    return Err(Error::alias_already_exists(alias_name));
                }
                model.set_alias(alias_name, &target);
                Ok(())
            })
        })
    }

    /// UpdateAlias: an existing alias names another key.
    pub fn update_alias(&self, alias_name: &str, key_id: &str) -> Result<Response<()>> {
        self.change(|now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            let key_id = required("KeyId", Some(key_id))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                if model.alias_target(alias_name).is_none() {
                    return Err(Error::alias_not_found(alias_name));
                }
                let target = model.resolve(key_id, now)?.key_id.clone();
                model.set_alias(alias_name, &target);
                Ok(())
            })
        })
    }

    /// DeleteAlias.
    pub fn delete_alias(&self, alias_name: &str) -> Result<Response<()>> {
        self.change(|now| {
            let alias_name = required("AliasName", Some(alias_name))?;
            ids::check_alias_name(alias_name)?;
            self.store.mutate(now, |model| {
                if model.remove_alias(alias_name) {
                    Ok(())
                } else {
                    Err(Error::alias_not_found(alias_name))
                }
            })
        })
    }
}
