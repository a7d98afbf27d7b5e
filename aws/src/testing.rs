//! For the tests of both halves (the provider's `terraform_timeouts`, the collector's
//! `silent_endpoint`); production code never calls it.

/// A loopback listener that accepts connections and never answers: the endpoint a new user's
/// STS was, on which calls without timeouts hang forever. Held open until the process ends.
pub fn silent_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}
