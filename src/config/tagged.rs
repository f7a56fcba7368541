//! Configuration tables whose `kind` picks the keys they may hold (`[model]`, `[[simulator]]`,
//! `[[objective]]`, `[executor]`): an enum with one variant per kind, each holding a struct of its
//! own keys (`deny_unknown_fields`), so a key of another kind is an error by construction.
//!
//! [`tagged!`] declares such an enum from its variants. Reading is two-phase, because serde's
//! internally tagged enums buffer the table and lose the line of each key: the enum's
//! `Deserialize` reads the table, takes `kind` out and reads the rest into that kind's struct
//! (what every reader of a configuration uses); when that fails in a file,
//! [`diagnose`] reads the same table again straight from the spanned document, so the error names
//! the key, its line, and — for a key of another kind or a misspelt one — which kind it belongs to
//! or its closest spelling among this kind's keys.

use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error as _, IntoDeserializer, Visitor};
use std::ops::Range;

/// An enum of configuration kinds declared with [`tagged!`].
pub trait Tagged: Sized {
    /// Every kind, in order.
    const KINDS: &'static [&'static str];
    /// The kind of a table without `kind`, if it may be left out.
    const DEFAULT_KIND: Option<&'static str>;

    /// Reads the keys of a table of kind `kind` (`kind` itself taken out) into its struct.
    fn read_kind<'de, D: Deserializer<'de>>(kind: &str, d: D) -> Result<Self, D::Error>;

    /// The keys of kind `kind` (besides `kind`), or `None` for an unknown kind.
    fn keys(kind: &str) -> Option<&'static [&'static str]>;

    /// Why a key of another kind does not apply to `kind`, if the kind says.
    fn note(kind: &str) -> Option<&'static str>;
}

/// Declares a configuration table whose `kind` picks one variant, each a struct of its own keys:
///
/// ```ignore
/// tagged!(
///     /// `[[simulator]]`.
///     SimulatorConfig {
///         /// The embedded MD engine.
///         Native(NativeConfig) = "native",
///         /// Existing oxDNA files replayed.
///         Trajectory(TrajectoryConfig) = "trajectory" note "a replayed trajectory is not simulated",
///     }
/// );
/// ```
///
/// `default "name"` after the enum's name lets a table leave `kind` out. Each struct derives
/// `Deserialize` with `deny_unknown_fields`; the enum is written back with `kind` first.
macro_rules! tagged {
    ($(#[$doc:meta])* $name:ident $(default $default:literal)? {
        $($(#[$vdoc:meta])* $variant:ident($ty:ty) = $text:literal $(note $note:literal)?),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(tag = "kind")]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant($ty),)+
        }

        impl $name {
            /// Its kind's name in a configuration.
            #[must_use]
            pub fn kind(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => $text,)+
                }
            }
        }

        impl $crate::config::tagged::Tagged for $name {
            const KINDS: &'static [&'static str] = &[$($text),+];
            const DEFAULT_KIND: Option<&'static str> = tagged!(@option $($default)?);

            fn read_kind<'de, D: serde::Deserializer<'de>>(kind: &str, d: D) -> Result<Self, D::Error> {
                match kind {
                    $($text => <$ty as serde::Deserialize>::deserialize(d).map($name::$variant),)+
                    other => Err(<D::Error as serde::de::Error>::unknown_variant(other, Self::KINDS)),
                }
            }

            fn keys(kind: &str) -> Option<&'static [&'static str]> {
                match kind {
                    $($text => Some($crate::config::tagged::keys_of::<$ty>()),)+
                    _ => None,
                }
            }

            fn note(kind: &str) -> Option<&'static str> {
                match kind {
                    $($text => tagged!(@option $($note)?),)+
                    _ => None,
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::config::tagged::deserialize(d)
            }
        }
    };
    (@option) => { None };
    (@option $x:literal) => { Some($x) };
}
pub(crate) use tagged;

/// Phase one, for any reader: the table, its `kind` taken out, read into that kind's struct.
pub fn deserialize<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let mut table = toml::Table::deserialize(d)?;
    let kind = match table.remove("kind") {
        Some(toml::Value::String(k)) => k,
        Some(other) => {
            return Err(D::Error::custom(format!("invalid type: {}, expected a kind name in quotes", other.type_str())))
        }
        None => match T::DEFAULT_KIND {
            Some(k) => k.to_string(),
            None => return Err(D::Error::missing_field("kind")),
        },
    };
    T::read_kind(&kind, toml::Value::Table(table)).map_err(|e| D::Error::custom(e.message()))
}

/// Phase two, for a file: the table `item` of the spanned document read again, straight into its
/// kind's struct, so the error has the span of its key or value. The message says, for a key
/// the kind does not have, which kind has it (or the closest spelling among this kind's keys), and
/// for a missing key, of which kind. `None` if the table reads without error.
pub fn diagnose<T: Tagged>(item: &toml_edit::Item) -> Option<(Option<Range<usize>>, String)> {
    let mut table = match item {
        toml_edit::Item::Table(t) => t.clone().into_inline_table(),
        toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => t.clone(),
        _ => return None,
    };
    let kind = match table.remove("kind") {
        Some(toml_edit::Value::String(k)) => {
            let name = k.value().clone();
            if T::keys(&name).is_none() {
                let e = toml::de::Error::unknown_variant(&name, T::KINDS);
                return Some((k.span(), super::explain(e.message())));
            }
            name
        }
        Some(other) => {
            let msg = format!("expected a kind name in quotes, found {}", other.type_name());
            return Some((other.span(), msg));
        }
        None => T::DEFAULT_KIND?.to_string(),
    };
    // an error about a key of this table (not of a table inside it) is about this kind's keys
    let own_keys: Vec<_> = table.iter().filter_map(|(k, _)| table.key(k).and_then(toml_edit::Key::span)).collect();
    let e = T::read_kind(&kind, toml_edit::Value::InlineTable(table).into_deserializer()).err()?;
    let msg = e.message().trim();
    let here = e.span().is_none_or(|s| own_keys.contains(&s));
    let field = |prefix: &str| msg.strip_prefix(prefix).and_then(|r| r.split('`').next()).filter(|_| here);
    let msg = if let Some(key) = field("unknown field `") {
        foreign_key::<T>(&kind, key)
    } else if let Some(key) = field("missing field `") {
        format!("missing required key '{key}' for kind = \"{kind}\"")
    } else {
        super::explain(msg)
    };
    Some((e.span(), msg))
}

/// Says why `key` is not a key of `kind`: another kind's key, or a misspelling of one of its own.
fn foreign_key<T: Tagged>(kind: &str, key: &str) -> String {
    let own: Vec<&str> = std::iter::once("kind").chain(T::keys(kind).unwrap_or_default().iter().copied()).collect();
    let list = own.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
    let owners: Vec<String> = T::KINDS
        .iter()
        .filter(|k| **k != kind && T::keys(k).is_some_and(|keys| keys.contains(&key)))
        .map(|k| format!("\"{k}\""))
        .collect();
    if owners.is_empty() {
        return match crate::params::closest(key, own.iter().copied()).first() {
            Some(b) => format!("unknown key '{key}'; did you mean '{b}'? (keys of kind = \"{kind}\": {list})"),
            None => format!("unknown key '{key}' (keys of kind = \"{kind}\": {list})"),
        };
    }
    let note = T::note(kind).map(|n| format!(" ({n})")).unwrap_or_default();
    format!(
        "does not apply to kind = \"{kind}\"{note}: it is a key of kind = {} (keys of kind = \"{kind}\": {list})",
        owners.join(" or ")
    )
}

/// The keys of a struct that derives `Deserialize`, as serde's derive names them.
pub fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(Probe) {
        Err(Fields(f)) => f,
        Ok(_) => &[],
    }
}

/// A deserializer that only records the keys a struct asks for.
struct Probe;

/// The keys [`Probe`] saw, carried out as its error.
#[derive(Debug)]
struct Fields(&'static [&'static str]);

impl std::fmt::Display for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "keys {:?}", self.0)
    }
}

impl std::error::Error for Fields {}

impl serde::de::Error for Fields {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Fields(&[])
    }
}

impl<'de> Deserializer<'de> for Probe {
    type Error = Fields;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
        Err(Fields(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fields> {
        Err(Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}
