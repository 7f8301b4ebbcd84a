//! SMS bodies: GSM-7 length (extension characters count 2) and segment counts.

/// Characters in one single-segment GSM-7 SMS.
pub const GSM7_SINGLE_SEGMENT: usize = 160;
/// GSM-7 characters per segment of a multi-part SMS.
pub const GSM7_MULTI_SEGMENT: usize = 153;
/// UCS-2 code units in one single-segment SMS.
pub const UCS2_SINGLE_SEGMENT: usize = 70;
/// UCS-2 code units per segment of a multi-part SMS.
pub const UCS2_MULTI_SEGMENT: usize = 67;

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// The GSM-7 length of `body` (extension characters count 2), or `None` if it needs UCS-2.
pub fn gsm7_length(body: &str) -> Option<usize> {
    body.chars().try_fold(0usize, |len, c| {
        if GSM7_BASIC.contains(c) {
            Some(len + 1)
        } else if GSM7_EXTENSION.contains(c) {
            Some(len + 2)
        } else {
            None
        }
    })
}

/// True when `body` is GSM-7 and fits one segment (160 characters).
pub fn is_single_gsm7_segment(body: &str) -> bool {
    gsm7_length(body).is_some_and(|len| len <= GSM7_SINGLE_SEGMENT)
}

/// How many segments `body` is sent as (GSM-7 when possible, else UCS-2).
pub fn segment_count(body: &str) -> usize {
    let (len, single, multi) = match gsm7_length(body) {
        Some(len) => (len, GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT),
        None => (
            body.encode_utf16().count(),
            UCS2_SINGLE_SEGMENT,
            UCS2_MULTI_SEGMENT,
        ),
    };
    if len <= single {
        1
    } else {
        len.div_ceil(multi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_segment_edges() {
        assert!(is_single_gsm7_segment(""));
        assert!(is_single_gsm7_segment(&"a".repeat(160)));
        assert!(!is_single_gsm7_segment(&"a".repeat(161)));
        assert!(is_single_gsm7_segment(&format!("{}€", "a".repeat(158))));
        assert!(
            !is_single_gsm7_segment(&format!("{}€", "a".repeat(159))),
            "€ counts 2"
        );
        assert!(!is_single_gsm7_segment(&format!("{}[]", "a".repeat(157))));
        assert!(!is_single_gsm7_segment("Hi 😀"), "emoji needs UCS-2");
        assert!(
            !is_single_gsm7_segment("Café ç"),
            "lowercase ç is not GSM-7"
        );
        assert!(is_single_gsm7_segment("Hi Jane, 50% off @ Ünter £5 é"));
        assert!(!is_single_gsm7_segment("Hi – no"), "en dash is not GSM-7");
    }

    #[test]
    fn lengths_and_segments() {
        assert_eq!(gsm7_length("Hello {name}"), Some(14));
        assert_eq!(gsm7_length("Ça va? ¿Sí?"), None);
        assert_eq!(gsm7_length("Ça va? ¿Sì?"), Some(11));
        assert_eq!(segment_count(&"a".repeat(160)), 1);
        assert_eq!(segment_count(&"a".repeat(161)), 2);
        assert_eq!(segment_count(&"a".repeat(306)), 2);
        assert_eq!(segment_count(&"a".repeat(307)), 3);
        assert_eq!(segment_count(&"é".repeat(10)), 1);
        assert_eq!(segment_count(&"😀".repeat(35)), 1);
        assert_eq!(segment_count(&"😀".repeat(36)), 2);
    }
}
