//! One ONNX detector file: read from the models folder, checked against the SHA-256 it must
//! have, parsed once, and turned into a runnable plan per input size (tract optimises a plan
//! for fixed dimensions). Inputs are padded to a few canvas sizes, so only a handful of plans
//! are made for the photos a town gets; at most `MAX_PLANS` are kept (a plan takes tens of
//! MiB), and when a new one would be one too many the cache starts over. Every run spreads its matrix
//! products over one pool of threads, as many as the machine has cores.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use sha2::{Digest, Sha256};
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;

/// The threads every model runs on, shared by all photos in flight.
static POOL: LazyLock<Executor> = LazyLock::new(|| {
    Executor::multithread_with_name(std::thread::available_parallelism().map_or(1, |n| n.get()), "detector")
});

/// A model file Meldeweg knows: its name under the models folder and the hash it must have.
#[derive(Debug, Clone, Copy)]
pub struct ModelFile {
    pub name: &'static str,
    pub sha256: &'static str,
}

/// Why a model could not be loaded. Every one stops the service at start.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path} cannot be read: {source} (install the models folder that ships with Meldeweg, see models/README.md)")]
    Read { path: String, source: std::io::Error },
    #[error("model file {path} has SHA-256 {found}, expected {expected}: the file is damaged or not the one Meldeweg was tested with")]
    Hash { path: String, found: String, expected: String },
    #[error("model file {path} is not a usable ONNX model: {reason}")]
    Parse { path: String, reason: String },
}

type Plan = Arc<TypedRunnableModel>;

/// The most plans kept per model.
const MAX_PLANS: usize = 8;

/// A parsed model and the plans made from it so far, by (height, width).
pub struct Model {
    name: &'static str,
    graph: InferenceModel,
    plans: Mutex<HashMap<(usize, usize), Plan>>,
}

impl Model {
    /// Reads `file` from `dir` and checks its hash before parsing anything.
    pub fn load(dir: &Path, file: ModelFile) -> Result<Self, ModelError> {
        let path = dir.join(file.name);
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Read { path: shown.clone(), source })?;
        let found = format!("{:x}", Sha256::digest(&bytes));
        if found != file.sha256 {
            return Err(ModelError::Hash { path: shown, found, expected: file.sha256.to_string() });
        }
        let graph = tract_onnx::onnx()
            .with_ignore_output_shapes(true)
            .model_for_read(&mut bytes.as_slice())
            .map_err(|e| ModelError::Parse { path: shown, reason: e.to_string() })?;
        Ok(Self { name: file.name, graph, plans: Mutex::new(HashMap::new()) })
    }

    /// Runs the model on one `[1, 3, height, width]` input and returns its outputs.
    pub fn run(&self, input: Tensor) -> TractResult<TVec<TValue>> {
        let shape = input.shape();
        let (height, width) = (shape[2], shape[3]);
        let plan = self.plan(height, width)?;
        multithread_tract_scope(POOL.clone(), || plan.run(tvec!(input.into())))
    }

    fn plan(&self, height: usize, width: usize) -> TractResult<Plan> {
        if let Some(plan) = self.plans.lock().unwrap_or_else(|e| e.into_inner()).get(&(height, width)) {
            return Ok(plan.clone());
        }
        let plan = self
            .graph
            .clone()
            .with_input_fact(0, f32::fact([1, 3, height, width]).into())?
            .into_optimized()?
            .into_runnable()?;
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() >= MAX_PLANS {
            plans.clear();
        }
        plans.insert((height, width), plan.clone());
        Ok(plan)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}
