(function(){
  var tip=document.getElementById('tip');
  var bars=document.querySelectorAll('.bar');
  var drawn=0;
  bars.forEach(function(b){
    var r=b.getBoundingClientRect(); if(r.width>0&&r.height>0){drawn++;}
    b.addEventListener('mousemove',function(e){
      tip.innerHTML=b.getAttribute('data-tip'); tip.style.display='block';
      var x=e.clientX+14,y=e.clientY+14;
      if(x+tip.offsetWidth>window.innerWidth-8){x=e.clientX-tip.offsetWidth-14;}
      if(y+tip.offsetHeight>window.innerHeight-8){y=e.clientY-tip.offsetHeight-14;}
      tip.style.left=x+'px'; tip.style.top=y+'px';
    });
    b.addEventListener('mouseleave',function(){tip.style.display='none';});
    b.addEventListener('click',function(){
      var row=document.getElementById(b.getAttribute('data-row'));
      if(row){row.scrollIntoView({block:'center'}); var d=row.querySelector('details'); if(d){d.open=true;}}
    });
  });
  document.body.setAttribute('data-rendered-bars', String(drawn));
})();
