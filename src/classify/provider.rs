//! The receiving organisation behind an MX host or a recipient domain, so that a company
//! domain hosted at Microsoft groups with Microsoft.

/// (provider, MX host suffixes, mailbox domains)
const PROVIDERS: &[(&str, &[&str], &[&str])] = &[
    (
        "Microsoft",
        &[
            ".protection.outlook.com",
            ".olc.protection.outlook.com",
            ".hotmail.com",
            ".outlook.com",
        ],
        &[
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "hotmail.co.uk",
            "hotmail.fr",
            "live.co.uk",
            "outlook.fr",
            "passport.com",
        ],
    ),
    (
        "Google",
        &[".google.com", ".googlemail.com", ".l.google.com"],
        &["gmail.com", "googlemail.com"],
    ),
    (
        "Yahoo",
        &[".yahoodns.net", ".yahoo.com", ".aol.com"],
        &[
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "aol.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.co.jp",
            "aim.com",
        ],
    ),
    (
        "Apple",
        &[".icloud.com", ".me.com", ".apple.com"],
        &["icloud.com", "me.com", "mac.com"],
    ),
    ("Proofpoint", &[".pphosted.com", ".ppe-hosted.com"], &[]),
    ("Mimecast", &[".mimecast.com", ".mimecast.co.za"], &[]),
    (
        "Barracuda",
        &[".barracudanetworks.com", ".ess.barracudanetworks.com"],
        &[],
    ),
    ("Cisco", &[".iphmx.com"], &[]),
    (
        "Zoho",
        &[".zoho.com", ".zoho.eu"],
        &["zoho.com", "zohomail.com"],
    ),
    (
        "GMX / WEB.DE",
        &[".gmx.net", ".web.de", ".kundenserver.de"],
        &["gmx.de", "gmx.net", "gmx.com", "web.de"],
    ),
    (
        "Mail.ru",
        &[".mail.ru"],
        &["mail.ru", "bk.ru", "inbox.ru", "list.ru"],
    ),
    (
        "Yandex",
        &[".yandex.net", ".yandex.ru"],
        &["yandex.ru", "yandex.com", "ya.ru"],
    ),
    ("Comcast", &[".comcast.net"], &["comcast.net"]),
    (
        "Fastmail",
        &[".messagingengine.com"],
        &["fastmail.com", "fastmail.fm"],
    ),
    (
        "Proton",
        &[".protonmail.ch"],
        &["protonmail.com", "proton.me", "pm.me"],
    ),
];

fn matches_suffix(host: &str, suffix: &str) -> bool {
    host.ends_with(suffix) || host == &suffix[1..]
}

/// The provider for a delivery: by the MX host that answered when there is one, else by
/// the recipient's domain. `None` when neither is a known provider.
pub fn provider_for(mx_host: Option<&str>, domain: &str) -> Option<&'static str> {
    if let Some(host) = mx_host {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        for (name, suffixes, _) in PROVIDERS {
            if suffixes.iter().any(|s| matches_suffix(&host, s)) {
                return Some(name);
            }
        }
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    PROVIDERS
        .iter()
        .find(|(_, _, domains)| domains.contains(&domain.as_str()))
        .map(|(name, _, _)| *name)
}

/// Mailbox domains of the well-known providers: the reference list for typo domains.
pub fn well_known_domains() -> impl Iterator<Item = &'static str> {
    PROVIDERS.iter().flat_map(|(_, _, d)| d.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosted_domains_group_with_their_provider() {
        assert_eq!(
            provider_for(
                Some("m365corp-example.mail.protection.outlook.com"),
                "m365corp.example"
            ),
            Some("Microsoft")
        );
        assert_eq!(
            provider_for(Some("gmail-smtp-in.l.google.com"), "example.org"),
            Some("Google")
        );
        assert_eq!(
            provider_for(Some("mta7.am0.yahoodns.net"), "yahoo.com"),
            Some("Yahoo")
        );
        assert_eq!(provider_for(None, "Hotmail.com"), Some("Microsoft"));
        assert_eq!(provider_for(Some("mx.example.net"), "example.net"), None);
        // A look-alike suffix is not the provider.
        assert_eq!(provider_for(Some("evilgoogle.com"), "x.example"), None);
    }
}
