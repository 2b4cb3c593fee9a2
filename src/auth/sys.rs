//! The crate's only `unsafe` code: crypt(3) from libxcrypt and `getspnam_r` from libc, the
//! two C calls mon's password checks rest on (Perl's `crypt` and `getpwnam` as root).
//!
//! Both wrappers copy everything they return into owned Rust values before returning.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// `sizeof(struct crypt_data)` in libxcrypt (crypt.h: the sizes add up to exactly 32768).
const CRYPT_DATA_SIZE: usize = 32768;

#[link(name = "crypt")]
unsafe extern "C" {
    /// `char *crypt_rn(const char *phrase, const char *setting, void *data, int size)`:
    /// like `crypt_r`, but returns NULL (instead of a failure token) on any error.
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// Hash `phrase` with the method and salt that `setting` (a full hash works) names, as
/// crypt(3) does: DES, `$1$`, `$5$`, `$6$`, `$2b$`, `$y$` and the rest libxcrypt knows.
/// `None` when either input holds a NUL byte or libxcrypt rejects the setting.
pub fn crypt(phrase: &[u8], setting: &[u8]) -> Option<Vec<u8>> {
    let phrase = CString::new(phrase).ok()?;
    let setting = CString::new(setting).ok()?;
    // libxcrypt wants the area zeroed before first use; a fresh one per call keeps the
    // function reentrant without any shared state.
    let mut data = vec![0u8; CRYPT_DATA_SIZE];
    // SAFETY: both strings are valid NUL-terminated C strings that outlive the call;
    // `data` is a writable, zeroed buffer of the size passed, which is at least
    // sizeof(struct crypt_data). crypt_rn writes only inside `data` and returns either NULL
    // or a pointer into `data`.
    let out = unsafe {
        crypt_rn(
            phrase.as_ptr(),
            setting.as_ptr(),
            data.as_mut_ptr().cast::<c_void>(),
            CRYPT_DATA_SIZE as c_int,
        )
    };
    if out.is_null() {
        return None;
    }
    // SAFETY: a non-NULL result points at a NUL-terminated string inside `data` (the
    // `output` field), which is still alive here; it is copied before `data` is dropped.
    let hash = unsafe { CStr::from_ptr(out) }.to_bytes().to_vec();
    Some(hash)
}

/// The password field of `user`'s shadow entry, when this process may read it (root).
pub fn shadow_hash(user: &str) -> Option<Vec<u8>> {
    let name = CString::new(user).ok()?;
    let mut buf_len = 1024usize;
    loop {
        let mut buf = vec![0 as c_char; buf_len];
        // SAFETY: an all-zero `spwd` is a valid value (null pointers and zero integers);
        // getspnam_r only writes through the pointers we pass.
        let mut entry: libc::spwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::spwd = std::ptr::null_mut();
        // SAFETY: `name` is a valid C string; `entry`, `buf` (of `buf_len` bytes) and
        // `result` are valid for writes for the duration of the call. On success the
        // strings in `entry` point into `buf`.
        let rc = unsafe {
            libc::getspnam_r(
                name.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf_len < 1 << 20 {
            buf_len *= 4;
            continue;
        }
        if rc != 0 || result.is_null() || entry.sp_pwdp.is_null() {
            return None;
        }
        // SAFETY: on success `sp_pwdp` points at a NUL-terminated string inside `buf`,
        // which is alive until the end of this iteration; the bytes are copied out.
        let hash = unsafe { CStr::from_ptr(entry.sp_pwdp) }.to_bytes().to_vec();
        return Some(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypt_known_des_and_sha512() {
        // The lab userfile (tests/fixtures/transcripts/files/monusers.cf): adminpw, x.
        assert_eq!(
            crypt(b"adminpw", b"abYVmazTeTKKE").as_deref(),
            Some(&b"abYVmazTeTKKE"[..])
        );
        let sha = b"$6$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91";
        assert_eq!(crypt(b"x", sha).as_deref(), Some(&sha[..]));
        assert_ne!(crypt(b"y", sha).as_deref(), Some(&sha[..]));
    }

    #[test]
    fn crypt_rejects_bad_settings_and_nul() {
        assert_eq!(crypt(b"pw", b"*"), None);
        assert_eq!(crypt(b"pw", b"$apr1$abc$def"), None);
        assert_eq!(crypt(b"p\0w", b"abYVmazTeTKKE"), None);
    }

    #[test]
    fn shadow_lookup_of_unknown_user_is_none() {
        assert_eq!(shadow_hash("no-such-user-monrs"), None);
        assert_eq!(shadow_hash("a\0b"), None);
    }
}
