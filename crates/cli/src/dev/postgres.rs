//! A private PostgreSQL cluster for `agencyctl dev` when `DATABASE_URL` is unset: initialised
//! once in a folder under the project, started on a free port on 127.0.0.1 with a socket
//! directory of its own, and stopped when dev mode exits. PostgreSQL refuses to run as root,
//! so as root the cluster is owned and run by the `postgres` system user.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    run_as: Option<String>,
    /// The TCP port it listens on.
    pub port: u16,
}

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under \
/usr/lib/postgresql/<version>/bin. Install them (Debian/Ubuntu: `sudo apt-get install -y postgresql`; \
macOS: `brew install postgresql@16`), or set DATABASE_URL to an existing server.";

/// Finds the directory holding `initdb`, `pg_ctl` and `postgres`, newest version first.
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let v: u32 = e.file_name().to_str()?.parse().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        candidates.extend(versions.into_iter().map(|(_, p)| p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // A link to initdb in /usr/local/bin points at the real directory.
            let initdb = dir.join("initdb");
            if let Ok(real) = std::fs::canonicalize(&initdb)
                && let Some(parent) = real.parent()
            {
                candidates.push(parent.to_path_buf());
            }
        }
    }
    candidates.into_iter().find(|dir| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    })
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

impl EmbeddedPostgres {
    /// Initialises (first time) and starts the cluster under `root`.
    pub fn start(root: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().ok_or_else(|| anyhow::anyhow!(INSTALL_HINT))?;
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let root = std::fs::canonicalize(root)?;
        let data_dir = root.join("pgdata");
        let socket_dir = root.join("pgrun");
        let run_as = if is_root() {
            Some("postgres".to_owned())
        } else {
            None
        };
        for dir in [&data_dir, &socket_dir] {
            std::fs::create_dir_all(dir)?;
            if let Some(user) = &run_as {
                chown_to(dir, user)?;
                set_mode(dir, 0o700)?;
            }
        }
        let pg = Self {
            bin_dir,
            data_dir,
            run_as,
            port: free_port()?,
        };
        if !pg.data_dir.join("PG_VERSION").exists() {
            eprintln!(
                "agencyctl dev: initialising a private PostgreSQL cluster in {}",
                pg.data_dir.display()
            );
            pg.run_tool(
                "initdb",
                &[
                    "-D",
                    path_str(&pg.data_dir)?,
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-instructions",
                ],
            )?;
        }
        // A cluster left running by a killed dev session is stopped first.
        if pg.data_dir.join("postmaster.pid").exists() {
            let _ = pg.run_tool(
                "pg_ctl",
                &["-D", path_str(&pg.data_dir)?, "-m", "fast", "stop"],
            );
        }
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c fsync=off",
            pg.port,
            socket_dir.display()
        );
        let log = root.join("postgres.log");
        std::fs::write(&log, b"")?;
        if let Some(user) = &pg.run_as {
            chown_to(&log, user)?;
        }
        pg.run_tool(
            "pg_ctl",
            &[
                "-D",
                path_str(&pg.data_dir)?,
                "-o",
                &opts,
                "-l",
                path_str(&log)?,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .with_context(|| format!("starting PostgreSQL (log: {})", log.display()))?;
        Ok(pg)
    }

    /// The URL of a database on the cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the cluster (fast mode: connections are closed, data is kept).
    pub fn stop(&self) {
        if let Ok(data) = path_str(&self.data_dir)
            && let Err(e) = self.run_tool("pg_ctl", &["-D", data, "-m", "fast", "-w", "stop"])
        {
            eprintln!("agencyctl dev: stopping PostgreSQL failed: {e:#}");
        }
    }

    fn run_tool(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin_dir.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir("/")
            .output()
            .with_context(|| format!("running {}", exe.display()))?;
        if !out.status.success() {
            bail!(
                "{tool} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow::anyhow!("path {} is not UTF-8", p.display()))
}

fn chown_to(path: &Path, user: &str) -> anyhow::Result<()> {
    let user = nix::unistd::User::from_name(user)?.ok_or_else(|| {
        anyhow::anyhow!(
            "running as root needs the `{user}` system user (it comes with the postgresql package)"
        )
    })?;
    nix::unistd::chown(path, Some(user.uid), Some(user.gid))?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_a_private_cluster_that_answers_and_stops() {
        if find_bin_dir().is_none() {
            panic!("{INSTALL_HINT}");
        }
        let dir = tempfile::Builder::new()
            .prefix("agency-embedded-pg")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let pg = EmbeddedPostgres::start(dir.path()).unwrap();
        let url = pg.url("postgres");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let one: i32 = rt.block_on(async {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query_scalar("SELECT 1")
                .fetch_one(&pool)
                .await
                .unwrap()
        });
        assert_eq!(one, 1);
        let port = pg.port;
        drop(pg);
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "cluster still listening after stop"
        );
    }
}
