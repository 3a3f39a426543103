//! localkms patch: `update` and `update_reversed` against the portable field arithmetic, for
//! every length around the eight-block kernel's groups, in one call and split across calls.

#![cfg(feature = "hazmat")]

use polyval::{BLOCK_SIZE, Block, Polyval, hazmat::FieldElement, universal_hash::UniversalHash};

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

fn blocks(data: &[u8]) -> Vec<Block> {
    data.chunks(BLOCK_SIZE)
        .map(|c| Block::try_from(c).unwrap())
        .collect()
}

/// POLYVAL one block at a time with the portable `Add`/`Mul`.
fn reference(key: [u8; 16], blocks: &[Block], reversed: bool) -> Block {
    let h = FieldElement::from(key);
    let mut y = FieldElement::default();
    for block in blocks {
        let mut block = *block;
        if reversed {
            block.reverse();
        }
        y = (y + (&block).into()) * h;
    }
    y.into()
}

#[test]
fn every_length_in_one_call_and_split() {
    for seed in 1..=20u64 {
        let key: [u8; 16] = bytes(seed * 7919, 16).try_into().unwrap();
        let data = bytes(seed, 40 * BLOCK_SIZE);
        let all = blocks(&data);
        for len in 0..=all.len() {
            let input = &all[..len];
            for reversed in [false, true] {
                let expected = reference(key, input, reversed);
                let absorb = |poly: &mut Polyval, part: &[Block]| {
                    if reversed {
                        poly.update_reversed(part);
                    } else {
                        poly.update(part);
                    }
                };
                let mut poly = Polyval::new(&key.into());
                absorb(&mut poly, input);
                assert_eq!(poly.finalize(), expected, "seed {seed} len {len} {reversed}");
                for cut in [1, 3, 7, 8, 9, 17] {
                    if cut < len {
                        let mut poly = Polyval::new(&key.into());
                        absorb(&mut poly, &input[..cut]);
                        absorb(&mut poly, &input[cut..]);
                        assert_eq!(poly.finalize(), expected, "seed {seed} len {len} cut {cut}");
                    }
                }
            }
        }
    }
}

/// localkms patch: `finalize_reversed_with` gives what `update_reversed` of each list and
/// `finalize` give, after blocks already absorbed, and leaves the state as it was.
#[test]
fn finalize_with_lists_leaves_the_state_alone() {
    for seed in 1..=10u64 {
        let key: [u8; 16] = bytes(seed * 104_729, 16).try_into().unwrap();
        let all = blocks(&bytes(seed, 40 * BLOCK_SIZE));
        for first in [0, 1, 9] {
            for len in 0..=all.len() - first {
                let input = &all[first..first + len];
                let cut = len / 3;
                let lists: [&[Block]; 4] = [&input[..cut], &[], &input[cut..], &all[..1]];
                let mut poly = Polyval::new(&key.into());
                poly.update_reversed(&all[..first]);
                let with = poly.finalize_reversed_with(&lists);
                let mut chained: Vec<Block> = all[..first].to_vec();
                lists.iter().for_each(|list| chained.extend_from_slice(list));
                assert_eq!(with, reference(key, &chained, true), "seed {seed} {first}+{len}");
                // The state is unchanged: it goes on from the blocks before, not the lists.
                poly.update_reversed(&all[..2]);
                let mut expected: Vec<Block> = all[..first].to_vec();
                expected.extend_from_slice(&all[..2]);
                assert_eq!(poly.finalize(), reference(key, &expected, true), "seed {seed}");
            }
        }
    }
}
