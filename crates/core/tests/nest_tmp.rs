#[test]
fn deep() {
    for n in [1000usize, 10_000, 100_000] {
        for tag in ["div", "blockquote", "ul><li", "table><tr><td", "b"] {
            let close = tag
                .split("><")
                .map(|t| format!("</{t}>"))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>();
            let html = format!("{}x{}", format!("<{tag}>").repeat(n), close.repeat(n));
            let t = std::time::Instant::now();
            let s = postbud_core::message::html_to_text(&html);
            println!("{n} {tag}: {} chars in {:?}", s.len(), t.elapsed());
        }
    }
}
