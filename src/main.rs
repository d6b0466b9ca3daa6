fn main() -> glib::ExitCode {
    virtdeck::run()
}
