//! What every trainer shares, in one place:
//!
//! - [`optim`]: Adam with its moments saved beside a checkpoint, and global gradient-norm
//!   clipping;
//! - [`graph`]: operations for training through long recurrences ([`graph::step_matmul`],
//!   [`graph::DeferredGrads`], [`graph::conv1d_unfolded`]);
//! - [`batch_norm`]: batch norm on batch statistics, with the running ones kept;
//! - [`checkpoint`]: loading a checkpoint into the variables being trained, and its step;
//! - [`driver`]: the step loop ([`driver::run`]) with periodic checkpoints and a stop request;
//! - [`corpus`]: speech corpora on disk, speaker by speaker, with transcripts.
//!
//! The trainers themselves live with their models (`voxclone_encoder::train`,
//! `voxclone_synthesizer::tacotron::train`, `voxclone_vocoder::wavernn::train`).

pub mod batch_norm;
pub mod checkpoint;
pub mod corpus;
pub mod driver;
pub mod graph;
pub mod optim;

pub use optim::{Adam, OPTIMIZER_FILE};
