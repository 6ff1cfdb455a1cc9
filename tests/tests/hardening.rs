//! What issue 23's probe found, each fixed and held here: the embedded data
//! stays its owner's, a connection cannot open streams or trickle a request
//! head without bound, and a signed token of a user that does not exist
//! joins no queue.

use frontrow_tests::{Stores, TestApp};

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_data_is_readable_by_its_owner_only_from_creation() {
    use std::os::unix::fs::PermissionsExt;
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |config| {
        // The secrets are generated into the folder too.
        config.admin_key = None;
        config.jwt_secret = None;
    })
    .await
    else {
        return;
    };
    // A write, so SQLite has made its WAL files.
    app.buyer("ada").await;
    let dir = &app.config.data_dir;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(dir), 0o700, "the data folder");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("the data folder") {
        let path = entry.expect("an entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    for name in ["frontrow.db", "frontrow.db-wal", "admin-key", "jwt-secret"] {
        assert!(dir.join(name).exists(), "{name} is there and was checked");
    }
    assert!(files >= 4);
}

