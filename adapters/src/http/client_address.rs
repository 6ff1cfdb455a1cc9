//! Who is on the other end: the client's address, for per-address limits.
//!
//! The address is the socket's peer, unless that peer is a proxy the
//! operator trusts (`--trusted-proxies`): then it is read from
//! `X-Forwarded-For`, walking from the right (the hop our proxy appended)
//! past every trusted proxy to the first address that is not one. Anything
//! left of that hop was written by the client itself and proves nothing,
//! so a client cannot choose its own address by sending the header; a peer
//! outside the trusted list has its header ignored entirely.

use ipnet::IpNet;
use poem::Request;
use poem::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// The client's address, as decided once per request by [`identify`] and put
/// in the request's data (`req.data::<ClientAddress>()`, or poem's
/// `Data<&ClientAddress>` in a handler).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The block the address belongs to: its IPv4 /24 or IPv6 /64, what
    /// one customer of a provider usually gets, so a farm spread over one
    /// block's addresses still counts as one.
    pub fn network(&self) -> IpNet {
        self.within(24)
    }

    /// The network a sign-up's household is keyed on
    /// (`frontrow_domain::household`): the address itself for IPv4 (a /32,
    /// what the per-address sign-up limit counts), its /64 for IPv6 (one
    /// host usually has a whole /64, so a narrower key would be free to
    /// vary).
    pub fn household_network(&self) -> IpNet {
        self.within(32)
    }

    /// The address's IPv4 /`ipv4_prefix` or IPv6 /64.
    fn within(&self, ipv4_prefix: u8) -> IpNet {
        let prefix = if self.0.is_ipv4() { ipv4_prefix } else { 64 };
        IpNet::new(self.0, prefix)
            .map(|network| network.trunc())
            .unwrap_or_else(|_| IpNet::from(self.0))
    }
}

/// The proxies whose `X-Forwarded-For` is believed: a list of CIDRs
/// (`10.0.0.0/8,127.0.0.1`; a bare address is one host). Empty by default:
/// with nothing trusted, every request's address is its socket's peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts exactly these networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client's address for a request from `peer` carrying `headers`:
    /// the peer itself unless it is trusted; else the rightmost
    /// `X-Forwarded-For` hop that is not a trusted proxy. A hop that does
    /// not parse ends the walk at the last trusted hop before it (what it
    /// claims cannot be checked), as does a list of trusted hops only.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut address = peer.to_canonical();
        if !self.trusts(address) {
            return address;
        }
        // Several X-Forwarded-For fields are one list, in order (RFC 9110
        // 5.3); the rightmost hop was appended last.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.into_iter().rev() {
            match IpAddr::from_str(hop) {
                Ok(hop) => {
                    address = hop.to_canonical();
                    if !self.trusts(address) {
                        return address;
                    }
                }
                Err(_) => return address,
            }
        }
        address
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of CIDRs or single addresses; empty is none.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                IpNet::from_str(item)
                    .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                    .map_err(|_| format!("not a CIDR or an address: {item:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// Decides the request's [`ClientAddress`] and puts it in the request's
/// data (`http::app_on` does this before any handler runs). A request with
/// no socket address (not one a TCP listener accepts) counts as the
/// unspecified address, which limits all such requests together.
pub fn identify(request: &mut Request, trusted: &TrustedProxies) {
    let peer = request
        .remote_addr()
        .as_socket_addr()
        .map(|socket| socket.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let address = trusted.client_address(peer, request.headers());
    request.set_data(ClientAddress(address));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("a header value"));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().expect("a list of CIDRs")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies("10.0.0.0/8");
        let forged = headers(&["1.2.3.4"]);
        assert_eq!(
            trusted.client_address(ip("203.0.113.9"), &forged),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.0.0.1"), &forged),
            ip("10.0.0.1"),
            "nothing is trusted by default"
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let trusted = proxies("10.0.0.0/8, 192.168.1.1");
        // The client wrote "6.6.6.6" itself; the edge proxy appended the
        // address it saw, and an inner proxy (trusted) appended the edge's.
        let forwarded = headers(&["6.6.6.6, 198.51.100.7", "192.168.1.1"]);
        assert_eq!(
            trusted.client_address(ip("10.1.2.3"), &forwarded),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_usable_header_is_the_client() {
        let trusted = proxies("127.0.0.1/32");
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), &headers(&[])),
            ip("127.0.0.1")
        );
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), &headers(&["6.6.6.6, not-an-address"])),
            ip("127.0.0.1"),
            "an unreadable hop ends the walk"
        );
        assert_eq!(
            trusted.client_address(ip("127.0.0.1"), &headers(&["127.0.0.1"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn mapped_ipv6_peers_match_ipv4_networks() {
        let trusted = proxies("127.0.0.0/8");
        assert_eq!(
            trusted.client_address(ip("::ffff:127.0.0.1"), &headers(&["2001:db8::1"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_household_network_is_the_ipv4_address_or_the_ipv6_slash_64() {
        let network = |text: &str| ClientAddress(ip(text)).household_network().to_string();
        assert_eq!(network("198.51.100.7"), "198.51.100.7/32");
        assert_eq!(network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    }

    #[test]
    fn a_network_is_the_addresses_slash_24_or_slash_64() {
        assert_eq!(
            ClientAddress(ip("198.51.100.7")).network().to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(
            ClientAddress(ip("2001:db8:1:2:3:4:5:6"))
                .network()
                .to_string(),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn lists_parse_cidrs_and_bare_addresses_and_refuse_the_rest() {
        assert_eq!(proxies(""), TrustedProxies::default());
        assert!(proxies("10.0.0.0/8,::1").trusts(ip("::1")));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.internal".parse::<TrustedProxies>().is_err());
    }
}
