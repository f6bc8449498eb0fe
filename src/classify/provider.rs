//! The receiving organisation behind an MX host or a recipient domain, so that a company
//! domain hosted at Microsoft groups with Microsoft.

/// A receiving organisation: its MX host suffixes and its mailbox domains.
#[derive(Debug, serde::Deserialize)]
struct Provider {
    name: String,
    mx: Vec<String>,
    domains: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ProviderList {
    provider: Vec<Provider>,
}

/// The list lives in `assets/providers.toml` (embedded at build time) so that adding a
/// provider or a mailbox domain is a data change; its comments say how entries are used.
fn providers() -> &'static [Provider] {
    static PROVIDERS: std::sync::OnceLock<Vec<Provider>> = std::sync::OnceLock::new();
    PROVIDERS.get_or_init(|| {
        // Our own file, checked by the tests: a broken one is a build defect, not input.
        toml::from_str::<ProviderList>(include_str!("../../assets/providers.toml"))
            .expect("assets/providers.toml is valid")
            .provider
    })
}

/// Reads the provider list (`classify::prepare`).
pub(super) fn prepare() {
    providers();
}

fn matches_suffix(host: &str, suffix: &str) -> bool {
    host.ends_with(suffix) || host == &suffix[1..]
}

/// The provider for a delivery: by the MX host that answered when there is one, else by
/// the recipient's domain. `None` when neither is a known provider.
pub fn provider_for(mx_host: Option<&str>, domain: &str) -> Option<&'static str> {
    if let Some(host) = mx_host {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        for p in providers() {
            if p.mx.iter().any(|s| matches_suffix(&host, s)) {
                return Some(&p.name);
            }
        }
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    providers()
        .iter()
        .find(|p| p.domains.contains(&domain))
        .map(|p| p.name.as_str())
}

/// Mailbox domains of the well-known providers: the reference list for typo domains.
pub fn well_known_domains() -> impl Iterator<Item = &'static str> {
    providers()
        .iter()
        .flat_map(|p| p.domains.iter().map(String::as_str))
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
        assert_eq!(
            provider_for(Some("163mx01.mxmail.netease.com"), "163.com"),
            Some("NetEase")
        );
        // A look-alike suffix is not the provider.
        assert_eq!(provider_for(Some("evilgoogle.com"), "x.example"), None);
    }

    #[test]
    fn the_list_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for p in providers() {
            assert!(!p.name.is_empty());
            for s in &p.mx {
                assert!(s.starts_with('.') && s.len() > 3, "{}: mx {s:?}", p.name);
            }
            for d in &p.domains {
                assert_eq!(d, &d.to_ascii_lowercase(), "{}", p.name);
                assert!(d.contains('.') && !d.starts_with('.'), "{}: {d:?}", p.name);
                assert!(seen.insert(d.as_str()), "{d} listed twice");
            }
        }
        assert!(well_known_domains().count() >= 80);
    }
}
