//! `authtype pam` (cargo feature `pam`): one PAM authentication of USER/PASS against the
//! `pamservice` stack, answering PAM's prompts the way mon's conversation function does.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;

use nonstick::{
    AuthnFlags, ConversationAdapter, Result as PamResult, Transaction, TransactionBuilder,
};

/// Answers visible prompts with the user name and hidden ones with the password.
struct Answers {
    user: OsString,
    pass: OsString,
}

impl ConversationAdapter for Answers {
    fn prompt(&self, _request: impl AsRef<OsStr>) -> PamResult<OsString> {
        Ok(self.user.clone())
    }
    fn masked_prompt(&self, _request: impl AsRef<OsStr>) -> PamResult<OsString> {
        Ok(self.pass.clone())
    }
    fn error_msg(&self, _message: impl AsRef<OsStr>) {}
    fn info_msg(&self, _message: impl AsRef<OsStr>) {}
}

/// Authenticate like mon's Authen::PAM call: `pam_start` + `pam_authenticate`, no account
/// management step.
pub fn authenticate(service: &str, user: &str, pass: &[u8]) -> Result<(), String> {
    let answers = Answers {
        user: OsString::from(user),
        pass: OsString::from_vec(pass.to_vec()),
    };
    let mut txn = TransactionBuilder::new_with_service(service)
        .username(user)
        .build(answers.into_conversation())
        .map_err(|e| format!("PAM start for service '{service}': {e}"))?;
    txn.authenticate(AuthnFlags::empty())
        .map_err(|e| e.to_string())
}
