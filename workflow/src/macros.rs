//! Macros shared by the domain modules.

/// An enum stored as text: `as_str`, `FromStr` (INTERNAL error for unknown stored
/// values, which only hand-edited data can produce) and `ALL`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stored form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::Error::Internal(format!(
                        "unknown {} `{other}` in the database", stringify!($name)
                    ))),
                }
            }
        }
    };
}
