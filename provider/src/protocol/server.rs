//! The plugin process: socket, TLS, gRPC services, signals, shutdown.
//!
//! Two modes:
//! - **managed** (Terraform launched us): mTLS on a unix socket in a private temp dir, one
//!   handshake line on stdout, SIGINT does not end the process (Terraform's Ctrl-C reaches
//!   the whole process group; Terraform then winds down and sends Shutdown) but cancels the
//!   calls in flight like StopProvider, because Terraform 1.0 sends no StopProvider while
//!   ConfigureProvider runs; exit on GRPCController.Shutdown or SIGTERM;
//! - **debug** (`-debug`): plaintext on a unix socket, prints `TF_REATTACH_PROVIDERS` for
//!   the user to export, serves any number of Terraform runs until Ctrl-C.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::handshake::{self, LaunchError};
use super::proto::plugin as goplugin;
use super::proto::tfplugin6::provider_server::ProviderServer;
use super::service::ProviderService;
use super::tls;
use crate::framework::Provider;

/// terraform-plugin-go's limit; tonic's default of 4 MiB is too small for large plans.
pub const MAX_MESSAGE_SIZE: usize = 256 << 20;
/// How long a TLS handshake may take before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a shutdown request: time for the last responses to leave before we exit.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Plaintext, self-started, prints `TF_REATTACH_PROVIDERS` (see the module docs).
    pub debug: bool,
}

/// The whole plugin `main`: reads the command line and environment, sets up logging and
/// serves `provider` until Terraform is done with it.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     terraform_provider_lfm::protocol::serve(terraform_provider_lfm::lfm::LfmProvider::default()).await
/// }
/// ```
pub async fn serve<P: Provider>(provider: P) -> ExitCode {
    let mut options = ServeOptions::default();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-debug" | "--debug" => options.debug = true,
            "-h" | "-help" | "--help" => {
                eprintln!("terraform-provider-lfm: a Terraform plugin. Terraform starts it; run it with -debug to attach Terraform to a provider you started yourself.");
                return ExitCode::SUCCESS;
            }
            other => eprintln!("terraform-provider-lfm: ignoring unknown argument `{other}`"),
        }
    }
    init_logging();
    match serve_with(provider, options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<LaunchError>() {
                Some(launch) => eprintln!("{launch}"),
                None => {
                    tracing::error!("{e:#}");
                    eprintln!("terraform-provider-lfm: {e:#}");
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// Serves with explicit options (the environment still provides Terraform's launch data).
pub async fn serve_with<P: Provider>(provider: P, options: ServeOptions) -> anyhow::Result<()> {
    let tls_config = if options.debug {
        None
    } else {
        let launch = handshake::check_launch(|k| std::env::var(k).ok())?;
        match launch.client_cert_pem {
            Some(pem) => {
                let identity = tls::generate_server_identity()?;
                let pinned = tls::parse_client_cert_pem(&pem)?;
                Some((tls::server_config(&identity, pinned)?, identity.cert_der))
            }
            None => {
                tracing::warn!("PLUGIN_CLIENT_CERT is not set: serving without TLS");
                None
            }
        }
    };

    let socket = SocketDir::create()?;
    let listener = UnixListener::bind(&socket.path)
        .with_context(|| format!("cannot listen on {}", socket.path.display()))?;
    let acceptor = tls_config
        .as_ref()
        .map(|(config, _)| tokio_rustls::TlsAcceptor::from(Arc::new(config.clone())));
    let incoming = accept_connections(listener, acceptor);

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let service = ProviderService::new(provider);
    spawn_signal_handlers(shutdown_tx.clone(), service.clone(), options.debug);

    let (mut health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider_service = ProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let controller = goplugin::grpc_controller_server::GrpcControllerServer::new(Controller {
        shutdown: shutdown_tx,
        debug: options.debug,
    });
    let stdio = goplugin::grpc_stdio_server::GrpcStdioServer::new(SilentStdio);

    if options.debug {
        print_reattach_instructions(&socket.path);
    } else {
        let cert = tls_config.as_ref().map(|(_, der)| der.as_ref());
        print_stdout_line(&handshake::handshake_line(&socket.path, cert));
    }
    tracing::info!(socket = %socket.path.display(), tls = tls_config.is_some(), "serving plugin protocol 6");

    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(provider_service)
        .add_service(controller)
        .add_service(stdio)
        .serve_with_incoming_shutdown(incoming, wait_for(shutdown_rx.clone()));
    tokio::select! {
        result = server => result.context("gRPC server failed")?,
        // Terraform keeps its connection open after Shutdown; do not wait for it to go away.
        () = async { wait_for(shutdown_rx).await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {}
    }
    tracing::info!("plugin stopped");
    drop(socket); // removes the socket file and its directory
    Ok(())
}

fn print_stdout_line(line: &str) {
    use std::io::Write;
    let mut out = io::stdout().lock();
    // If stdout is gone Terraform is gone too; nothing useful to do about it.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn print_reattach_instructions(socket: &Path) {
    let json = handshake::reattach_json(socket, std::process::id());
    print_stdout_line(&format!(
        "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS in the shell running terraform:\n\n\
         \tTF_REATTACH_PROVIDERS='{json}'\n\n\
         Then run terraform commands as usual (no terraform init needed for this provider). Stop with Ctrl-C."
    ));
}

/// Logs go to stderr only (stdout carries the handshake). Level from TF_LOG_PROVIDER,
/// then TF_LOG (Terraform's level names), then RUST_LOG (tracing directives); default warn.
fn init_logging() {
    let tf_level = |var: &str| {
        std::env::var(var)
            .ok()
            .and_then(|v| match v.trim().to_ascii_uppercase().as_str() {
                "TRACE" | "JSON" => Some("trace"),
                "DEBUG" => Some("debug"),
                "INFO" => Some("info"),
                "WARN" => Some("warn"),
                "ERROR" => Some("error"),
                "OFF" => Some("off"),
                _ => None,
            })
    };
    // Terraform's levels apply to this crate; libraries (h2, rustls, hyper) stay at warn,
    // or TF_LOG=DEBUG would drown the provider's lines in frame dumps. RUST_LOG is passed
    // through untouched for when those are wanted.
    let directives = tf_level("TF_LOG_PROVIDER")
        .or_else(|| tf_level("TF_LOG"))
        .map(|level| format!("warn,terraform_provider_lfm={level}"))
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "warn".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(false)
        .try_init();
}

async fn wait_for(mut flag: watch::Receiver<bool>) {
    // An Err means every sender is gone, i.e. nothing can ask for shutdown any more.
    if flag.wait_for(|set| *set).await.is_err() {
        futures::future::pending::<()>().await;
    }
}

fn spawn_signal_handlers<P: Provider>(
    shutdown: watch::Sender<bool>,
    service: ProviderService<P>,
    debug: bool,
) {
    use tokio::signal::unix::{signal, SignalKind};
    tokio::spawn(async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::warn!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = interrupt.recv() => {
                    if debug {
                        break;
                    }
                    // Terraform's Ctrl-C reaches us too. Terraform decides when we exit
                    // (Shutdown); we only stop waiting on the outside world, as StopProvider would.
                    tracing::info!("interrupt received: cancelling calls in flight, serving on until Terraform says Shutdown");
                    service.stop_in_flight();
                }
                _ = terminate.recv() => break,
            }
        }
        shutdown.send_replace(true);
    });
}

/// A private directory holding the socket; both are removed on drop.
struct SocketDir {
    dir: PathBuf,
    path: PathBuf,
}

impl SocketDir {
    fn create() -> anyhow::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("lfm-plugin-{}-{nanos:08x}", std::process::id()));
        // 0700: only this user may even reach the socket (TLS is the second lock).
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("plugin.sock");
        Ok(SocketDir { dir, path })
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Accepted connections, after the TLS handshake when TLS is on. Handshakes run in their
/// own tasks so a slow or hostile client cannot hold up the others.
fn accept_connections(
    listener: UnixListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> impl Stream<Item = Result<PluginConn, io::Error>> {
    let (tx, rx) = mpsc::channel::<PluginConn>(16);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Some(acceptor) = acceptor.clone() else {
                if tx.send(PluginConn::Plain(stream)).await.is_err() {
                    return;
                }
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(PluginConn::Tls(Box::new(tls))).await;
                    }
                    // Terraform opens and drops a spare connection at exit: not worth a warning.
                    Ok(Err(e))
                        if e.kind() == io::ErrorKind::BrokenPipe
                            || e.kind() == io::ErrorKind::UnexpectedEof =>
                    {
                        tracing::debug!("connection closed during the TLS handshake: {e}")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!("rejected a connection: TLS handshake failed: {e}")
                    }
                    Err(_) => tracing::warn!("rejected a connection: TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx).map(Ok)
}

/// One accepted connection, plaintext or TLS, as tonic needs it.
enum PluginConn {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl Connected for PluginConn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_flush(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            PluginConn::Plain(s) => s.is_write_vectored(),
            PluginConn::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// go-plugin's GRPCController: Shutdown ends a managed plugin. In debug mode the user owns
/// the process lifetime (Ctrl-C), so one Terraform run finishing does not end it.
struct Controller {
    shutdown: watch::Sender<bool>,
    debug: bool,
}

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<goplugin::Empty>,
    ) -> Result<Response<goplugin::Empty>, Status> {
        if self.debug {
            tracing::info!(
                "Shutdown requested; in debug mode the provider keeps running until Ctrl-C"
            );
        } else {
            tracing::info!("Shutdown requested by Terraform");
            self.shutdown.send_replace(true);
        }
        Ok(Response::new(goplugin::Empty {}))
    }
}

/// go-plugin's GRPCStdio: we never write to stdout/stderr for Terraform to relay (logs go
/// to stderr directly), so the stream stays open and silent.
struct SilentStdio;

#[tonic::async_trait]
impl goplugin::grpc_stdio_server::GrpcStdio for SilentStdio {
    type StreamStdioStream =
        Pin<Box<dyn Stream<Item = Result<goplugin::StdioData, Status>> + Send + 'static>>;

    async fn stream_stdio(
        &self,
        _request: Request<goplugin::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}
