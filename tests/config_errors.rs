//! Every class of configuration error, each a fixture in `tests/inputs/config/bad/` whose last
//! line `#! expect: LINE: KEY: MESSAGE` is the exact error (after the file name).

use oxgrad::config::ConfigFile;
use std::path::PathBuf;

#[test]
fn every_bad_configuration_fails_with_its_exact_message() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/inputs/config/bad");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("#! expect: "))
            .unwrap_or_else(|| panic!("{}: no '#! expect:' line", path.display()));
        let err = ConfigFile::read(&path)
            .and_then(ConfigFile::build)
            .err()
            .unwrap_or_else(|| panic!("{} was accepted", path.display()));
        assert_eq!(err.to_string(), format!("{}:{expect}", path.display()), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 20, "{checked} fixtures");
}
