//! The encrypt path draws IVs and RequestIds from a user-space CSPRNG (rand's
//! ThreadRng): after `fork`, parent and child must not continue the same stream,
//! or both would encrypt under the same key with the same IV.

use localkms::service::{Client, DecryptRequest, EncryptRequest};

/// One AdvanceEncrypt: its IV and RequestId.
fn draw(client: &Client, key_id: &str) -> (Vec<u8>, String) {
    let r = client
        .advance_encrypt(&EncryptRequest {
            key_id,
            plaintext: b"fork",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(r.iv.len(), 12);
    (r.iv, r.request_id)
}

#[test]
fn parent_and_child_draw_different_ivs_and_request_ids_after_fork() {
    let client = Client::in_memory();
    let key_id = client.create_key(&Default::default()).unwrap().value.key_id;
    for round in 0..4 {
        // This thread's generator is seeded and in use before the fork, so a child
        // that inherited it unchanged would draw exactly what the parent draws next.
        let before = draw(&client, &key_id);
        let mut fds = [0i32; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // Child: one encrypt, its IV and RequestId to the parent, then _exit
            // (no test harness, no destructors in the child).
            let (iv, id) = draw(&client, &key_id);
            let mut msg = iv;
            msg.extend_from_slice(id.as_bytes());
            let n = unsafe { libc::write(fds[1], msg.as_ptr().cast(), msg.len()) };
            unsafe { libc::_exit(if n == msg.len() as isize { 0 } else { 1 }) };
        }
        unsafe { libc::close(fds[1]) };
        let (parent_iv, parent_id) = draw(&client, &key_id);
        let mut msg = [0u8; 12 + 36];
        let mut got = 0;
        while got < msg.len() {
            let n = unsafe { libc::read(fds[0], msg[got..].as_mut_ptr().cast(), msg.len() - got) };
            assert!(n > 0, "the child sent {got} of {} bytes", msg.len());
            got += n as usize;
        }
        unsafe { libc::close(fds[0]) };
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "round {round}: the child failed ({status})"
        );
        let (child_iv, child_id) = (&msg[..12], std::str::from_utf8(&msg[12..]).unwrap());
        assert_ne!(
            child_iv,
            &parent_iv[..],
            "round {round}: the same IV after fork"
        );
        assert_ne!(
            child_id, parent_id,
            "round {round}: the same RequestId after fork"
        );
        assert_ne!(before.0, parent_iv);
        assert_ne!(child_iv, &before.0[..]);
    }
    // The parent's client still works after the forks.
    let sealed = client
        .advance_encrypt(&EncryptRequest {
            key_id: &key_id,
            plaintext: b"after",
            ..Default::default()
        })
        .unwrap();
    let opened = client
        .advance_decrypt(&DecryptRequest {
            ciphertext_blob: &sealed.ciphertext_blob,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(&opened.plaintext[..], b"after");
}
