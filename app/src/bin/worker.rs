use gloo_worker::Registrable;

fn main() {
    console_error_panic_hook::set_once();
    nuner_app::worker::ModelWorker::registrar().encoding::<nuner_app::protocol::MsgPack>().register();
}
