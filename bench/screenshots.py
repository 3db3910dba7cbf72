"""Save screenshots of the agent console, the customer demo page and the editor to docs/ (the README shows them).

    .venv/bin/python bench/screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import PROJECT, chromium, running_server  # noqa: E402


def main() -> None:
    with running_server() as server, chromium() as browser:
        base = server.base
        context = browser.new_context(viewport={"width": 1400, "height": 800}, device_scale_factor=1)
        agent = context.new_page()
        server.login(agent)
        agent.goto(base + "/agent")
        agent.wait_for_selector("body[data-connected=true]")
        customers = {}
        for conversation, text in [("小美", "包邮吗亲"), ("阿强", "今天下单什么时候到"), ("buyer-1", "是正品吗")]:
            page = context.new_page()
            page.set_viewport_size({"width": 400, "height": 700})
            page.goto(f"{base}/customer?c={conversation}")
            page.wait_for_selector("body[data-connected=true]")
            page.fill("#text", text)
            page.press("#text", "Enter")
            agent.wait_for_selector(f"#conversations button[data-id='{conversation}']")
            customers[conversation] = page
        agent.locator("#conversations button[data-id='buyer-1']").click()
        agent.wait_for_selector("#intent-name:text('authenticity')")
        agent.locator("body").click(position={"x": 5, "y": 5})
        agent.keyboard.press("1")
        agent.keyboard.type(" 放心拍哦")
        agent.wait_for_timeout(400)
        out = PROJECT / "docs"
        agent.screenshot(path=str(out / "console.png"))
        agent.keyboard.press("Enter")
        customers["buyer-1"].wait_for_selector(".msg.agent")
        customers["buyer-1"].screenshot(path=str(out / "customer.png"))
        editor = context.new_page()
        editor.goto(base + "/editor#/new")
        editor.wait_for_selector("#e-intent option", state="attached")
        editor.select_option("#e-intent", "shipping_fee")
        editor.fill("#e-questions", "包邮不")
        editor.fill("#e-answer", "亲,全场满{free_shipping_threshold}元包邮哦,一定给您最低价")
        editor.wait_for_selector("#similar-list li")
        editor.wait_for_timeout(400)
        editor.screenshot(path=str(out / "editor.png"))
        print(f"wrote {out / 'console.png'}, {out / 'customer.png'} and {out / 'editor.png'}")


if __name__ == "__main__":
    main()
