//! localkms patch: `update` (whole slices through POLYVAL's kernel) against GHASH computed bit by
//! bit as NIST SP 800-38D, Algorithm 1, defines it, for every length around the kernel's
//! eight-block groups, in one call and split across calls.

use ghash::{GHash, universal_hash::UniversalHash};

/// Deterministic test bytes (xorshift64*).
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// X · Y in GF(2^128) with GCM's bit order (SP 800-38D, 6.3).
fn gf_mul(x: u128, y: u128) -> u128 {
    let r = 0xe1u128 << 120;
    let (mut z, mut v) = (0u128, y);
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ r } else { v >> 1 };
    }
    z
}

fn reference(h: [u8; 16], data: &[u8]) -> [u8; 16] {
    let h = u128::from_be_bytes(h);
    let mut y = 0u128;
    for block in data.chunks(16) {
        let mut padded = [0u8; 16];
        padded[..block.len()].copy_from_slice(block);
        y = gf_mul(y ^ u128::from_be_bytes(padded), h);
    }
    y.to_be_bytes()
}

#[test]
fn every_length_in_one_call_and_split() {
    for seed in 1..=20u64 {
        let h: [u8; 16] = bytes(seed * 7919, 16).try_into().unwrap();
        let data = bytes(seed, 40 * 16);
        for len in 0..=data.len() / 16 {
            let input = &data[..len * 16];
            let expected = reference(h, input);
            let mut ghash = GHash::new(&h.into());
            ghash.update_padded(input);
            assert_eq!(ghash.finalize().as_slice(), expected, "seed {seed} len {len}");
            for cut in [1, 3, 7, 8, 9, 17] {
                if cut < len {
                    let mut ghash = GHash::new(&h.into());
                    ghash.update_padded(&input[..cut * 16]);
                    ghash.update_padded(&input[cut * 16..]);
                    let got = ghash.finalize();
                    assert_eq!(got.as_slice(), expected, "seed {seed} len {len} cut {cut}");
                }
            }
        }
        // a final partial block, zero-padded
        for extra in 1..16 {
            let input = &data[..5 * 16 + extra];
            let mut ghash = GHash::new(&h.into());
            ghash.update_padded(input);
            let got = ghash.finalize();
            assert_eq!(got.as_slice(), reference(h, input), "seed {seed} +{extra}");
        }
    }
}
