//! Fine-tuning the encoder's top layers with the head (the advanced training option), and
//! putting tuned layers from an earlier session back.
//!
//! The tuned encoder replaces the loaded one for the rest of the session (its features are
//! recomputed); the UI stores the tuned layers (`nuner::tuned`, 14 MB for MiniLM's top two)
//! next to the head, and restores both on the next visit.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;

use nuner::data::Example;
use nuner::heads::{FeatureConfig, Head, LabelSet};
use nuner::pipeline::units_of;
use nuner::tokenize::words::Segmentation;
use nuner::train::{tune_top_layers, TrainReport, TuneConfig};
use nuner::Pretrained;

use super::{loaded, Loaded, Reply, State};
use crate::protocol::{Response, TrainOptions, TunedLayers};

/// Installs `encoder` (tuned top `layers`) as the worker's model and tells the UI.
async fn install(state: &RefCell<State>, base: &Loaded, encoder: nuner::Encoder, layers: usize, reply: &Reply) -> Result<(), String> {
    let fingerprint = nuner::weights::encoder_fingerprint(&encoder).await.map_err(|e| e.to_string())?;
    let name = base.model.name.trim_end_matches(" (fine-tuned here)").to_string() + " (fine-tuned here)";
    let model = Pretrained { encoder, fingerprint, name, ..base.model.clone() };
    let tuned = Loaded {
        model,
        device: base.device.clone(),
        backend: base.backend.clone(),
        base_fingerprint: base.base_fingerprint.clone(),
        tuned_layers: layers,
        seconds: base.seconds,
    };
    let info = tuned.info();
    {
        let mut s = state.borrow_mut();
        s.features.clear();
        s.head = None;
        s.loaded = Some(Rc::new(tuned));
    }
    reply(Response::Ready(info));
    Ok(())
}

/// Fine-tunes `head` and the top `options.unfreeze` layers on `examples`; installs the tuned
/// encoder, sends its layers, and returns the tuned head (for the caller to capture).
pub async fn tune(
    state: &RefCell<State>,
    examples: &[Example],
    labels: &LabelSet,
    head: Head,
    options: &TrainOptions,
    cancel: &Rc<Cell<bool>>,
    reply: &Reply,
) -> Result<(Head, TrainReport), String> {
    let l = loaded(state)?;
    let n = options.unfreeze;
    let config = TuneConfig::new(n).with_steps(options.tune_steps).with_seed(options.seed).with_report_every((options.tune_steps / 30).max(1));
    let features = FeatureConfig::nuner(l.model.config.num_hidden_layers);
    let units = units_of(examples, Segmentation::Unicode);
    let mut progress = |p: nuner::train::TrainProgress| {
        reply(Response::TrainProgress { stage: format!("fine-tuning {n} layers"), done: p.epoch, total: p.epochs, loss: Some(p.loss) });
        if cancel.get() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let (encoder, head, report) = tune_top_layers(&config, &l.model, examples, &units, &features, labels, head, &l.device, &mut progress)
        .await
        .map_err(|e| e.to_string())?;
    // Layers tuned in an earlier round stay tuned.
    let layers = n.max(l.tuned_layers);
    reply(Response::TrainProgress { stage: "saving the tuned layers".into(), done: 0, total: 1, loss: None });
    let bytes = nuner::tuned::save_top_layers(&encoder, layers).await.map_err(|e| e.to_string())?;
    install(state, &l, encoder, layers, reply).await?;
    reply(Response::Tuned(TunedLayers { base_fingerprint: l.base_fingerprint.clone(), layers, bytes }));
    Ok((head, report))
}

/// Puts tuned layers back on the loaded encoder (as loaded, not tuned), then sets `head`.
pub async fn restore(state: &RefCell<State>, layers: Vec<u8>, head: Option<String>, reply: &Reply) -> Result<(), String> {
    let l = loaded(state)?;
    if l.tuned_layers > 0 {
        return Err("the encoder is fine-tuned already".into());
    }
    let mut encoder = l.model.encoder.clone();
    let n = nuner::tuned::load_top_layers(&mut encoder, layers, "stored tuned layers").map_err(|e| e.to_string())?;
    install(state, &l, encoder, n, reply).await?;
    if let Some(json) = head {
        super::tasks::set_head(state, &json, reply)?;
    }
    Ok(())
}
