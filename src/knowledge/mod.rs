//! Explanation panels (assets/knowledge/), embedded at build; a user directory may add or
//! override. Filled in by the explanation-panels work.
