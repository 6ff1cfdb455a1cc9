//! Where a simulated client comes from. The whole 127.0.0.0/8 answers
//! locally, so a client socket bound to 127.a.b.1 reaches the server from
//! that address, and the server sees it as the socket's peer: nothing in
//! the request claims it (no `X-Forwarded-For`), so the server trusts
//! nothing extra for the load test.
//!
//! Each simulated address is in a /24 of its own (127.block.n.1), so a
//! limit per /24 counts each address apart, as it would for people on
//! different carriers. Blocks keep the sides of a run apart: the rush's
//! crowd from block 10 up, the bot-farm scenario's people from block 1 and
//! its farm from block 200.

use frontrow_client::Client;
use std::net::{IpAddr, Ipv4Addr};

/// The rush's crowd (`ticket-open --addresses`).
pub const CROWD_BLOCK: u8 = 10;
/// The bot-farm scenario's people, one address each.
pub const PEOPLE_BLOCK: u8 = 1;
/// The bot-farm scenario's farm.
pub const FARM_BLOCK: u8 = 200;

/// The `n`-th address of `block`: 127.(block + n / 256).(n % 256).1.
pub fn loopback(block: u8, n: usize) -> IpAddr {
    let high = block.wrapping_add((n / 256) as u8);
    IpAddr::V4(Ipv4Addr::new(127, high, (n % 256) as u8, 1))
}

/// The HTTP client of one source address (`None`: the system's choice,
/// 127.0.0.1 for a loopback server).
pub fn http(source: Option<IpAddr>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        // Many idle connections: a buyer that finds none opens a new one,
        // and in a join burst that churn filled the server's listen
        // queue and used up this process's file handles (issue 16).
        .pool_max_idle_per_host(4096)
        .timeout(std::time::Duration::from_secs(60))
        .local_address(source)
        .build()
}

/// One API client per address: `count` addresses of `block`, or one
/// unbound client when `count` is 0; `client` makes each from its HTTP
/// client (each has its own connections).
pub fn clients(
    block: u8,
    count: usize,
    client: impl Fn(reqwest::Client) -> Client,
) -> reqwest::Result<Vec<Client>> {
    let sources: Vec<Option<IpAddr>> = if count == 0 {
        vec![None]
    } else {
        (0..count).map(|n| Some(loopback(block, n))).collect()
    };
    sources
        .into_iter()
        .map(|source| Ok(client(http(source)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_is_in_a_slash_24_of_its_own() {
        assert_eq!(loopback(1, 0).to_string(), "127.1.0.1");
        assert_eq!(loopback(1, 255).to_string(), "127.1.255.1");
        assert_eq!(loopback(1, 256).to_string(), "127.2.0.1");
        assert_eq!(loopback(FARM_BLOCK, 1).to_string(), "127.200.1.1");
    }
}
