//! Receiving providers whose non-delivery reports mean one thing whatever their wording
//! (or language) says. Chosen by the recipient's domain, as providers document them.

use super::reason::Reason;

/// The reason a provider's own report stands for, when the provider settles it.
///
/// Google Groups answers a post it will not distribute — the group does not exist, or
/// the sender may not post to it — with a localised notice and no code: the sender was
/// refused (`rejected`), whatever the language.
pub fn provider_reason(recipient_domain: &str) -> Option<Reason> {
    let domain = recipient_domain.trim_end_matches('.').to_ascii_lowercase();
    match domain.as_str() {
        "googlegroups.com" => Some(Reason::Rejected),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_groups_refusals_are_rejections() {
        assert_eq!(provider_reason("GoogleGroups.com"), Some(Reason::Rejected));
        assert_eq!(provider_reason("example.com"), None);
    }
}
