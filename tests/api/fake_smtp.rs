//! A local SMTP sink on a random port: speaks just enough SMTP for a client (greeting, EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every message it receives, decoded, so tests
//! read what a citizen's mailbox would show.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as delivered.
#[derive(Debug, Clone)]
pub struct Mail {
    pub recipients: Vec<String>,
    pub subject: String,
    /// The text body, transfer encoding undone.
    pub body: String,
}

#[derive(Clone)]
pub struct FakeSmtp {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl FakeSmtp {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = session(stream, kept).await;
                });
            }
        });
        Self { port, mails }
    }

    /// The URL Meldeweg's `email.smtp_url` takes (plain SMTP, as to a local relay).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

async fn session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") || command.starts_with("NOOP") {
            if command.starts_with("RSET") {
                recipients.clear();
            }
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            recipients.push(line[8..].trim().trim_matches(['<', '>', ':']).to_string());
            b"250 OK\r\n"
        } else if command.starts_with("DATA") {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = Vec::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                // A leading dot was doubled by the client ("dot-stuffing").
                data.push(if line.starts_with("..") { line[1..].to_string() } else { line });
            }
            mails.lock().unwrap().push(parse(std::mem::take(&mut recipients), &data));
            b"250 OK queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(answer).await?;
    }
    Ok(())
}

/// Headers and body of a single-part text message, body decoded.
fn parse(recipients: Vec<String>, lines: &[String]) -> Mail {
    let split = lines.iter().position(String::is_empty).unwrap_or(lines.len());
    let header = |name: &str| {
        lines[..split]
            .iter()
            .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .unwrap_or_default()
            .to_string()
    };
    let raw = &lines[(split + 1).min(lines.len())..];
    let body = match header("Content-Transfer-Encoding").to_ascii_lowercase().as_str() {
        "base64" => {
            let joined: String = raw.concat();
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(joined).unwrap_or_default())
                .into_owned()
        }
        "quoted-printable" => quoted_printable(raw),
        _ => raw.join("\n"),
    };
    Mail { recipients, subject: header("Subject"), body: body.replace("\r\n", "\n") }
}

fn quoted_printable(lines: &[String]) -> String {
    let mut bytes = Vec::new();
    for line in lines {
        let (text, soft) = match line.strip_suffix('=') {
            Some(text) => (text, true),
            None => (line.as_str(), false),
        };
        let raw = text.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'=' && i + 2 < raw.len() {
                if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                    bytes.push(byte);
                    i += 3;
                    continue;
                }
            }
            bytes.push(raw[i]);
            i += 1;
        }
        if !soft {
            bytes.push(b'\n');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
