//! Support for CPU feature autodetection with a portable pure Rust fallback.

use crate::{Block, Key, ParBlocks, Tag, field_element::FieldElement};

#[cfg_attr(target_arch = "aarch64", path = "intrinsics/armv8.rs")]
#[cfg_attr(
    any(target_arch = "x86", target_arch = "x86_64"),
    path = "intrinsics/x86.rs"
)]
mod intrinsics_impl;
use intrinsics_impl::InitToken;

// localkms patch: eight blocks per reduction on CPUs with AVX-512 and VPCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[path = "intrinsics/x86_64_vpclmul.rs"]
mod vpclmul;

/// State of a POLYVAL hash operation.
#[derive(Clone)]
pub(crate) struct State {
    /// Expanded key.
    expanded_key: ExpandedKey,

    /// Accumulator for the POLYVAL computation in progress (a.k.a. `y`).
    acc: FieldElement,

    /// CPU feature detection initialization token.
    init_token: InitToken,

    /// localkms patch: CPU feature detection token for the eight-block kernel.
    #[cfg(target_arch = "x86_64")]
    wide_token: vpclmul::InitToken,
}

impl State {
    pub(crate) fn new(h: &Key) -> Self {
        let (init_token, has_intrinsics) = InitToken::init_get();

        let expanded_key = if has_intrinsics {
            // SAFETY: we have just used CPU feature detection to ensure intrinsics are available
            unsafe { intrinsics_impl::expand_key(&h.0) }
        } else {
            // Fallback to software-only implementation
            // TODO(tarcieri): use `ExpandedKey` space to store powers-of-H
            ExpandedKey {
                h1: FieldElement::from(*h),
                ..Default::default()
            }
        };

        let y = FieldElement::default();

        Self {
            expanded_key,
            acc: y,
            init_token,
            #[cfg(target_arch = "x86_64")]
            wide_token: vpclmul::InitToken::init(),
        }
    }

    /// localkms patch: absorbs `blocks` in order, each byte-reversed first when `REVERSED`
    /// (GHASH's byte order).
    #[inline]
    pub(crate) fn update<const REVERSED: bool>(&mut self, blocks: &[Block]) {
        self.acc = self.absorb::<REVERSED>(self.acc, blocks);
    }

    /// localkms patch: the tag after absorbing each of `lists` in turn, leaving the state as it
    /// is: no copy of the expanded key, which a clone made on every GCM tag.
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
    #[inline]
    pub(crate) fn finalize_with<const REVERSED: bool>(&self, lists: &[&[Block]]) -> Tag {
        let mut acc = self.acc;
        for blocks in lists.iter().filter(|blocks| !blocks.is_empty()) {
            acc = self.absorb::<REVERSED>(acc, blocks);
        }
        acc.into()
    }

    /// localkms patch: `acc` after `blocks` under this state's key: the eight-block kernel
    /// where the CPU has it; otherwise four blocks at a time, then one at a time, as before.
    #[inline]
    fn absorb<const REVERSED: bool>(&self, mut acc: FieldElement, blocks: &[Block]) -> FieldElement {
        #[cfg(target_arch = "x86_64")]
        if self.has_intrinsics() && self.wide_token.get() {
            // SAFETY: `has_intrinsics` means PCLMULQDQ and AVX were detected, so `expand_key`
            // filled in H^5 ... H^8 as well; `wide_token` means AVX-512F, AVX-512BW and
            // VPCLMULQDQ were detected.
            return unsafe { vpclmul::update::<REVERSED>(&self.expanded_key, acc, blocks) };
        }
        let (par_blocks, tail) = ParBlocks::slice_as_chunks(blocks);
        for par_block in par_blocks {
            acc = if REVERSED {
                let mut par_block = *par_block;
                par_block.iter_mut().for_each(|block| block.reverse());
                self.par_step(acc, &par_block)
            } else {
                self.par_step(acc, par_block)
            };
        }
        for block in tail {
            acc = if REVERSED {
                let mut block = *block;
                block.reverse();
                self.step(acc, &block)
            } else {
                self.step(acc, block)
            };
        }
        acc
    }

    fn step(&self, acc: FieldElement, block: &Block) -> FieldElement {
        if self.has_intrinsics() {
            // SAFETY: we have just used CPU feature detection to ensure intrinsics are available
            unsafe { intrinsics_impl::proc_block(&self.expanded_key, acc, block) }
        } else {
            (acc + block.into()) * self.expanded_key.h1
        }
    }

    fn par_step(&self, mut acc: FieldElement, par_blocks: &ParBlocks) -> FieldElement {
        if self.has_intrinsics() {
            // SAFETY: we have just used CPU feature detection to ensure intrinsics are available
            unsafe { intrinsics_impl::proc_par_blocks(&self.expanded_key, acc, par_blocks) }
        } else {
            // TODO(tarcieri): use powers-of-H since we have the space in `ExpandedKey`
            for block in par_blocks {
                acc = self.step(acc, block);
            }
            acc
        }
    }

    pub(crate) fn proc_block(&mut self, block: &Block) {
        self.acc = self.step(self.acc, block);
    }

    pub(crate) fn proc_par_blocks(&mut self, par_blocks: &ParBlocks) {
        self.acc = self.par_step(self.acc, par_blocks);
    }

    pub(crate) fn finalize(&self) -> Tag {
        self.acc.into()
    }

    pub(crate) fn reset(&mut self) {
        self.acc = FieldElement::default();
    }

    #[inline]
    fn has_intrinsics(&self) -> bool {
        self.init_token.get()
    }
}

/// Precomputed key material for POLYVAL using R/F algorithm
///
/// Stores H and D values for each power, where D = swap(H) ⊕ (H0 × P1)
#[derive(Clone, Default)]
pub(crate) struct ExpandedKey {
    /// H^1 packed as [h1_hi : h1_lo]
    h1: FieldElement,
    /// D^1 = computed from H^1
    d1: FieldElement,
    /// H^2
    h2: FieldElement,
    /// D^2
    d2: FieldElement,
    /// H^3
    h3: FieldElement,
    /// D^3
    d3: FieldElement,
    /// H^4
    h4: FieldElement,
    /// D^4
    d4: FieldElement,
    /// localkms patch: H^8 ... H^5 and their D values, for the eight-block kernel.
    #[cfg(target_arch = "x86_64")]
    high: vpclmul::HighPowers,
}
