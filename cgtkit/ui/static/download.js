// cgtkit's one-click download (see cgtkit/ui/download.py): the button asks the kernel for the
// file, the kernel answers with its bytes, and the browser saves them under the given name.
function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "jupyter-button widget-button cgt-download-button";
  const label = () => {
    button.innerHTML = '<i class="fa fa-download"></i> ';
    button.appendChild(document.createTextNode(model.get("description")));
  };
  label();
  model.on("change:description", label);
  button.addEventListener("click", () => {
    button.disabled = true;
    model.send({ event: "download" });
  });
  model.on("msg:custom", (msg, buffers) => {
    button.disabled = false;
    if (!msg || msg.event !== "file" || !buffers || !buffers.length) return;
    const blob = new Blob([buffers[0]], { type: msg.mime || "application/octet-stream" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = msg.filename;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });
  el.appendChild(button);
}
export default { render };
